"""Whether a synth can be skipped: a SHA-256 of everything that decides its output, stored beside
the output of a synth that succeeded and compared by ``main.py --if-changed``.

The inputs: the files below (the stack's and both functions' sources, ``workspace/loopback.py``
that stacks/config.py imports, the lock files), cdktn's ``READY`` file when chosen, and the
``TAP_*`` and ``CDKTF_OUTDIR`` settings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from stacks import cdk

SOURCE_DIRS = ("stacks", "function", "rotation")
SOURCE_FILES = ("main.py", "workspace/loopback.py", "Pipfile.lock", "terrain/requirements.txt", "cdktf.json")
#: The file beside the synthesized stacks that holds the fingerprint of their inputs.
STAMP = ".tap-synth-inputs"


def fingerprint(root: Path, environ: Mapping[str, str]) -> str:
    """SHA-256 over the input files' paths and contents and the synth's settings."""
    files = [root / name for name in SOURCE_FILES if (root / name).is_file()]
    for folder in SOURCE_DIRS:
        files += (p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p.suffix != ".pyc"):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    ready = cdk.selected(environ).ready
    if ready is not None and ready.is_file():
        digest.update(f"{ready}\0".encode() + hashlib.sha256(ready.read_bytes()).digest())
    for name in sorted(environ):
        if name.startswith("TAP_") or name == "CDKTF_OUTDIR":
            digest.update(f"{name}={environ[name]}\0".encode())
    return digest.hexdigest()


def is_current(outdir: Path, environments: Iterable[str], digest: str) -> bool:
    """True when ``outdir`` was synthesized from inputs with this fingerprint and holds every stack."""
    stamp = outdir / STAMP
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != digest:
        return False
    return all((outdir / "stacks" / env / "cdk.tf.json").is_file() for env in environments)


def forget(outdir: Path) -> None:
    """Drop the stamp before a synth, so one that fails half-way is never taken as current."""
    (outdir / STAMP).unlink(missing_ok=True)


def record(outdir: Path, digest: str) -> None:
    """Store the fingerprint of the inputs a successful synth was made from."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / STAMP).write_text(digest + "\n", encoding="utf-8")
