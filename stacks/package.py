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


def _package_files(folder: Path, what: str) -> Iterator[tuple[str, bytes]]:
    """The files of the Python package ``folder`` (named ``<folder>/...`` in the zip)."""
    folder = folder.resolve()
    if not (folder / "__init__.py").is_file():
        raise FileNotFoundError(f"{folder} is not the {what} package (no __init__.py)")
    for path in folder.rglob("*"):
        relative = path.relative_to(folder.parent)
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


def build_lambda_package(source_dir: Path, out_path: Path) -> LambdaPackage:
    """Zip the handler package ``source_dir``, its entry module and its libraries into ``out_path``."""
    entries = {f"{HANDLER_MODULE}.py": ENTRY_SOURCE.encode("utf-8")}
    entries.update(_package_files(source_dir, "handler"))
    for name in RUNTIME_LIBRARIES:
        entries.update(_library_files(name))
    return _write_zip(entries, out_path)


def build_rotation_package(rotation_dir: Path, out_path: Path) -> LambdaPackage:
    """Zip the rotation package ``rotation_dir`` (and ``function/contract.py``) into ``out_path``."""
    entries = dict(_package_files(rotation_dir, "rotation"))
    function_dir = rotation_dir.resolve().parent / "function"
    for name in ROTATION_SHARED_MODULES:
        entries[f"function/{name}"] = (function_dir / name).read_bytes()
    return _write_zip(entries, out_path)


def _write_zip(entries: dict[str, bytes], out_path: Path) -> LambdaPackage:
    """Write the entries, sorted by name, to ``out_path``; the file is rewritten only when its bytes
    change, so repeated synths leave its modification time alone as well."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_suffix(f".{os.getpid()}.tmp")  # two synths at once each write their own
    with zipfile.ZipFile(tmp_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in sorted(entries.items()):
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
