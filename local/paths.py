"""Where the local platform keeps its files: everything under ``.local/`` (git-ignored)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LocalPaths:
    project: Path
    #: ``.local/``: pid files, logs and the session file; removed whole by ``make local-down``.
    root: Path
    #: Where main.py synthesizes to (``CDKTF_OUTDIR``): ``cdktf.out`` as for ``npx cdktf``.
    outdir: Path

    @property
    def emulator_pid(self) -> Path:
        return self.root / "emulator.json"

    @property
    def emulator_log(self) -> Path:
        return self.root / "emulator.log"

    @property
    def api_pid(self) -> Path:
        return self.root / "api.json"

    @property
    def session(self) -> Path:
        """URL, API key, endpoint and outputs of the running deployment (mode 0600)."""
        return self.root / "session.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def stack_dir(self) -> Path:
        """The synthesized ``local`` stack, where Terraform runs."""
        return self.outdir / "stacks" / "local"

    def log(self, name: str) -> Path:
        self.logs.mkdir(parents=True, exist_ok=True)
        return self.logs / f"{name}.log"

    def rel(self, path: Path) -> str:
        """``path`` relative to the project when inside it, for messages."""
        try:
            return str(path.relative_to(self.project))
        except ValueError:
            return str(path)


def local_paths() -> LocalPaths:
    """The paths in use: ``.local/`` and ``cdktf.out/`` in the project.

    ``TAP_LOCAL_DIR`` moves both elsewhere (``$TAP_LOCAL_DIR`` and ``$TAP_LOCAL_DIR/cdktf.out``),
    so a test run can deploy its own copy without touching a developer's ``make local``.
    """
    override = os.environ.get("TAP_LOCAL_DIR", "").strip()
    if override:
        root = Path(override).resolve()
        return LocalPaths(project=PROJECT, root=root, outdir=root / "cdktf.out")
    return LocalPaths(project=PROJECT, root=PROJECT / ".local", outdir=PROJECT / "cdktf.out")
