"""Where this checkout keeps things: the project root, ``.local/`` and the emulator's files.

Standard library only: everything in the project may import it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def shown(path: Path) -> str:
    """``path`` relative to the project when inside it, for messages."""
    try:
        return str(path.absolute().relative_to(PROJECT))
    except ValueError:
        return str(path)


def local_dirs() -> tuple[Path, Path]:
    """The developer's ``.local/`` and ``cdktf.out/`` in the project.

    ``TAP_LOCAL_DIR`` moves both elsewhere (``$TAP_LOCAL_DIR`` and ``$TAP_LOCAL_DIR/cdktf.out``),
    so a test run can deploy its own copy without touching a developer's ``make local``.
    """
    override = os.environ.get("TAP_LOCAL_DIR", "").strip()
    if override:
        root = Path(override).resolve()
        return root, root / "cdktf.out"
    return PROJECT / ".local", PROJECT / "cdktf.out"


@dataclass(frozen=True)
class EmulatorPaths:
    #: The folder of the emulator's pid file and log (``.local/`` for ``make local``).
    root: Path

    @property
    def emulator_pid(self) -> Path:
        return self.root / "emulator.json"

    @property
    def emulator_log(self) -> Path:
        return self.root / "emulator.log"
