"""Build the Lambda deployment package deterministically.

At the zip's root: the handler package ``function/``; ``lambda_function.py``, two generated
lines importing the entry point from ``function.handler`` (so the function's ``handler``
setting, an attribute of an original resource, stays ``lambda_function.lambda_handler``);
and the ``RUNTIME_LIBRARIES``, copied from the installed distributions Pipfile.lock pins by
hash, every file checked against its ``RECORD`` hash so a locally edited library never ships.

Terraform redeploys when ``source_code_hash`` changes, so the zip depends on those bytes
alone: entries sorted, timestamps 1980-01-01, fixed permissions, no caches.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
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
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644 << 16  # -rw-r--r-- in the zip's external attributes
_SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache"})
_SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})
#: What a distribution's ``*.dist-info`` folder contributes: its metadata and licences.
_DIST_INFO_KEPT = ("METADATA", "LICENSE", "NOTICE", "licenses/")


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip: where it is and the hash Terraform compares."""

    path: Path
    sha256_b64: str


def _kept(relative: Path) -> bool:
    return not _SKIPPED_PARTS.intersection(relative.parts) and relative.suffix not in _SKIPPED_SUFFIXES


def _library_files(name: str) -> Iterator[tuple[str, bytes]]:
    """The files a distribution installed below site-packages, checked against ``RECORD``."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"{name} is not installed: run make install (Pipfile.lock pins it)") from exc
    for file in dist.files or ():
        relative = Path(str(file))
        top, rest = relative.parts[0], "/".join(relative.parts[1:])
        if top == ".." or not _kept(relative) or (top.endswith(".dist-info") and not rest.startswith(_DIST_INFO_KEPT)):
            continue
        data = file.read_binary()
        if file.hash is not None:
            digest = base64.urlsafe_b64encode(hashlib.new(file.hash.mode, data).digest()).rstrip(b"=").decode()
            if digest != file.hash.value:
                raise ValueError(f"{relative} differs from the {name} {dist.version} wheel: reinstall it")
        yield relative.as_posix(), data


def build_lambda_package(source_dir: Path, out_path: Path) -> LambdaPackage:
    """Zip the handler package ``source_dir`` and its libraries into ``out_path``; the file is
    rewritten only when its bytes change, so repeated synths leave its modification time alone."""
    source_dir = source_dir.resolve()
    if not (source_dir / "__init__.py").is_file():
        raise FileNotFoundError(f"{source_dir} is not the handler package (no __init__.py)")
    entries = {f"{HANDLER_MODULE}.py": ENTRY_SOURCE.encode("utf-8")}
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir.parent)
        if path.is_file() and _kept(relative):
            entries[relative.as_posix()] = path.read_bytes()
    for name in RUNTIME_LIBRARIES:
        entries.update(_library_files(name))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in sorted(entries.items()):
            info = zipfile.ZipInfo(name, _FIXED_DATE)
            info.external_attr = _FILE_MODE
            info.create_system = 3  # Unix, whatever machine builds it
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    if not out_path.is_file() or out_path.read_bytes() != data:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = out_path.with_suffix(".zip.tmp")
        tmp_path.write_bytes(data)
        tmp_path.replace(out_path)  # a reader never sees half a zip
    return LambdaPackage(path=out_path, sha256_b64=base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"))
