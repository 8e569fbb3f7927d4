"""Build the Lambda deployment packages deterministically.

The task function's zip holds the handler package ``function/``, a generated
``lambda_function.py`` (so the handler setting stays ``lambda_function.lambda_handler``) and
the runtime libraries in ``RUNTIME_LIBRARIES``, each file checked against its distribution's
``RECORD`` hash so a locally edited library never ships. The rotation function's zip holds
``rotation/`` and ``function/contract.py``. Entries are sorted, dated 1980-01-01, with fixed
permissions and no caches, so two builds are byte-identical and ``source_code_hash`` changes
only with the code.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from function.contract import HANDLER_FUNCTION, HANDLER_MODULE, HANDLER_SOURCE

#: Distributions the handler imports that the Lambda Python runtime does not provide
#: (Powertools' other requirement, jmespath, comes with the runtime's botocore).
RUNTIME_LIBRARIES: Final = ("aws-lambda-powertools", "typing-extensions")
ENTRY_SOURCE: Final = (
    f'"""Lambda\'s entry point: ``{HANDLER_MODULE}.{HANDLER_FUNCTION}`` is ``{HANDLER_SOURCE}``."""\n\n'
    f"from {HANDLER_SOURCE} import {HANDLER_FUNCTION}\n\n__all__ = [{HANDLER_FUNCTION!r}]\n"
)
#: The handler modules the rotation package imports (the secret's format, the key cache time).
ROTATION_SHARED_MODULES: Final = ("__init__.py", "contract.py")
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644 << 16  # -rw-r--r-- in the zip's external attributes
_SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache"})
_SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})
#: What a distribution's ``*.dist-info`` folder contributes: its metadata and licences.
_DIST_INFO_KEPT = ("METADATA", "LICENSE", "NOTICE", "licenses/")


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip: where it is, its size and the hash Terraform compares."""

    path: Path
    sha256_b64: str
    size: int


def _kept(relative: Path) -> bool:
    return not _SKIPPED_PARTS.intersection(relative.parts) and relative.suffix not in _SKIPPED_SUFFIXES


def _handler_files(source_dir: Path) -> Iterator[tuple[str, bytes]]:
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir.parent)
        if path.is_file() and _kept(relative):
            yield relative.as_posix(), path.read_bytes()


def _library_files(name: str) -> Iterator[tuple[str, bytes]]:
    """The files a distribution installed below site-packages, checked against ``RECORD``."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"{name} is not installed: run make install (Pipfile.lock pins it)") from exc
    for file in dist.files or ():
        relative = Path(str(file))
        in_dist_info = relative.parts[0].endswith(".dist-info")
        if relative.parts[0] == ".." or not _kept(relative):
            continue
        if in_dist_info and not relative.as_posix().split("/", 1)[1].startswith(_DIST_INFO_KEPT):
            continue
        data = Path(str(file.locate())).read_bytes()
        if file.hash is not None:
            digest = base64.urlsafe_b64encode(hashlib.new(file.hash.mode, data).digest()).rstrip(b"=").decode()
            if digest != file.hash.value:
                raise ValueError(f"{relative} differs from the {name} {dist.version} wheel: reinstall it")
        yield relative.as_posix(), data


def package_entries(source_dir: Path) -> list[tuple[str, bytes]]:
    """Every (name in the zip, bytes) of the package, sorted by name."""
    entries = {f"{HANDLER_MODULE}.py": ENTRY_SOURCE.encode("utf-8")}
    entries.update(_handler_files(source_dir))
    for name in RUNTIME_LIBRARIES:
        entries.update(_library_files(name))
    return sorted(entries.items())


def rotation_package_entries(rotation_dir: Path) -> list[tuple[str, bytes]]:
    """Every (name in the zip, bytes) of the rotation package, sorted by name."""
    entries = dict(_handler_files(rotation_dir))
    function_dir = rotation_dir.parent / "function"
    for name in ROTATION_SHARED_MODULES:
        entries[f"function/{name}"] = (function_dir / name).read_bytes()
    return sorted(entries.items())


def build_lambda_package(source_dir: Path, out_path: Path) -> LambdaPackage:
    """Zip the handler package ``source_dir`` and its libraries into ``out_path``.

    The file is rewritten only when its bytes would change, so repeated synths leave
    its modification time alone as well.
    """
    source_dir = source_dir.resolve()
    if not (source_dir / "__init__.py").is_file():
        raise FileNotFoundError(f"{source_dir} is not the handler package (no __init__.py)")
    return _write_zip(package_entries(source_dir), out_path)


def build_rotation_package(rotation_dir: Path, out_path: Path) -> LambdaPackage:
    """Zip the rotation package ``rotation_dir`` (and ``function/contract.py``) into ``out_path``."""
    rotation_dir = rotation_dir.resolve()
    if not (rotation_dir / "__init__.py").is_file():
        raise FileNotFoundError(f"{rotation_dir} is not the rotation package (no __init__.py)")
    return _write_zip(rotation_package_entries(rotation_dir), out_path)


def _write_zip(entries: list[tuple[str, bytes]], out_path: Path) -> LambdaPackage:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_suffix(f".{os.getpid()}.tmp")  # two synths at once each write their own
    with zipfile.ZipFile(tmp_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, _FIXED_DATE)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            zf.writestr(info, data)
    data = tmp_path.read_bytes()
    if out_path.exists() and out_path.read_bytes() == data:
        tmp_path.unlink()
    else:
        tmp_path.replace(out_path)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return LambdaPackage(path=out_path, sha256_b64=digest, size=len(data))
