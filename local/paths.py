"""Where the local platform keeps its files: everything under ``.local/`` (git-ignored)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workspace.paths import EmulatorPaths, local_dirs


@dataclass(frozen=True)
class LocalPaths(EmulatorPaths):
    """``root`` is ``.local/``: pid files, logs and the session file; removed whole by ``make local-down``."""

    #: Where main.py synthesizes to (``CDKTF_OUTDIR``): ``cdktf.out`` as for ``npx cdktf``.
    outdir: Path

    @property
    def api_pid(self) -> Path:
        return self.root / "api.json"

    @property
    def session(self) -> Path:
        """URL, API key, endpoint and outputs of the running deployment (mode 0600)."""
        return self.root / "session.json"

    @property
    def stack_dir(self) -> Path:
        """The synthesized ``local`` stack, where Terraform runs."""
        return self.outdir / "stacks" / "local"

    def log(self, name: str) -> Path:
        """``.local/logs/NAME.log`` (the folder is made)."""
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        return self.root / "logs" / f"{name}.log"


def local_paths() -> LocalPaths:
    """The paths in use: ``.local/`` and ``cdktf.out/`` in the project, or under ``TAP_LOCAL_DIR``."""
    return LocalPaths(*local_dirs())
