"""Synthesize a stack the way ``make synth`` does: ``python main.py --if-changed``.

``make local`` and the migration commands both call :func:`synthesize`; a failure is one
:class:`SynthFailed` naming the step, main.py's last line (a bad setting is named there)
and the log that holds the rest.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workspace.paths import PROJECT, shown
from workspace.processes import run_logged, tail

MAIN = PROJECT / "main.py"


class SynthFailed(Exception):
    """main.py did not synthesize the stack: what happened, what to do, the log's last lines."""

    def __init__(self, what: str, todo: str, details: str) -> None:
        super().__init__(what)
        self.what = what
        self.todo = todo
        self.details = details


@dataclass(frozen=True)
class Synthesized:
    stack_dir: Path
    #: main.py found no input changed since the last synth and wrote nothing.
    reused: bool


def outdir(settings: Mapping[str, str]) -> Path:
    """Where main.py writes with these settings: ``CDKTF_OUTDIR``, else ``cdktf.out`` in the project."""
    return Path(settings.get("CDKTF_OUTDIR") or PROJECT / "cdktf.out")


def synthesize(env: str, settings: Mapping[str, str], log: Path, timeout: float = 900.0) -> Synthesized:
    """Run main.py with ``settings`` as its whole environment; the ``env`` stack must result.

    ``settings`` choose the stacks (``TAP_ENVIRONMENTS``), the backend and :func:`outdir`;
    the output goes to ``log``.
    """
    if not MAIN.is_file():
        raise SynthFailed("main.py is missing", "run from a complete checkout of the project", "")
    stack_dir = outdir(settings) / "stacks" / env
    target = stack_dir / "cdk.tf.json"
    before = target.stat().st_mtime_ns if target.exists() else None
    log.parent.mkdir(parents=True, exist_ok=True)
    code = run_logged([sys.executable, str(MAIN), "--if-changed"], PROJECT, settings, log, timeout)
    output = log.read_text(errors="replace")
    if code != 0:
        last = [line for line in output.splitlines()[1:] if line.strip()][-1:] or ["no output"]
        limit = " (time limit reached)" if code == -1 else ""
        raise SynthFailed(
            f"synthesizing the {env} stack exited with code {code}{limit}: {last[0].strip()}",
            f"fix that and retry; the whole output is in {shown(log)} "
            f"(reproduce with: TAP_ENVIRONMENTS={env} {shown(Path(sys.executable))} main.py)",
            tail(log, 20),
        )
    if not target.is_file() or (before is not None and target.stat().st_mtime_ns < before):
        raise SynthFailed(
            f"main.py ran but wrote no {shown(target)}",
            f"check that main.py synthesizes the {env!r} stack into the folder CDKTF_OUTDIR names",
            tail(log, 10),
        )
    return Synthesized(stack_dir, reused="up to date" in output)
