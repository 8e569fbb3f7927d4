"""Build the Lambda deployment package from ``function/`` deterministically.

Terraform redeploys a function when ``source_code_hash`` changes, so the zip must depend
on the source text alone: entries are sorted, every timestamp is pinned to 1980-01-01,
permissions are fixed and caches (``__pycache__``, ``*.pyc``) are left out. Two builds of
the same tree are byte-identical, on any machine.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644 << 16  # -rw-r--r-- in the zip's external attributes
_EXCLUDED_PARTS = {"__pycache__", ".pytest_cache"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip: where it is, its size and the hash Terraform compares."""

    path: Path
    sha256_b64: str
    size: int


def _package_files(source_dir: Path) -> list[Path]:
    """Every file below ``source_dir`` that belongs in the package, in a stable order."""
    files = [
        p
        for p in source_dir.rglob("*")
        if p.is_file()
        and not _EXCLUDED_PARTS.intersection(p.relative_to(source_dir).parts)
        and p.suffix not in _EXCLUDED_SUFFIXES
    ]
    return sorted(files, key=lambda p: p.relative_to(source_dir).as_posix())


def build_lambda_package(source_dir: Path, out_path: Path) -> LambdaPackage:
    """Zip ``source_dir`` into ``out_path`` and return the package's hash and size.

    The file is rewritten only when its bytes would change, so repeated synths leave
    its modification time alone as well.
    """
    source_dir = source_dir.resolve()
    if not (source_dir / "lambda_function.py").is_file():
        raise FileNotFoundError(f"{source_dir} has no lambda_function.py to package")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for file in _package_files(source_dir):
            info = zipfile.ZipInfo(file.relative_to(source_dir).as_posix(), _FIXED_DATE)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            zf.writestr(info, file.read_bytes())
    data = tmp_path.read_bytes()
    if out_path.exists() and out_path.read_bytes() == data:
        tmp_path.unlink()
    else:
        tmp_path.replace(out_path)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return LambdaPackage(path=out_path, sha256_b64=digest, size=len(data))
