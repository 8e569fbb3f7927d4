"""Synthesize the ``local`` stack and drive Terraform against the emulator.

Every function here raises :class:`StepFailed` for the failures a user can meet (a stack
that does not synthesize, an apply the emulator refuses, a missing terraform), with the
log's telling lines and what to do next.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from local.paths import LocalPaths
from local.progress import StepFailed
from workspace.paths import shown
from workspace.processes import quoted, run_logged, tail
from workspace.synth import SynthFailed
from workspace.synth import synthesize as synth
from workspace.terraform import TerraformMissing, emulator_env, terraform_binary

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR = re.compile(r"^[│\s]*Error:")
#: The option and time limit (seconds) of each Terraform command make local runs.
_OPTIONS = {"init": ("-reconfigure", 600.0), "apply": ("-auto-approve", 1200.0), "destroy": ("-auto-approve", 1200.0)}
#: What to do when a Terraform command fails ({} is the emulator's log), after reading its log.
_TODO = {
    "init": "if the backend cannot be reached, check the emulator ({}) or start afresh: make local-down && make local",
    "apply": "fix the resource it names (or report it), then run make local again (it reuses the emulator and "
    "applies what is missing)",
    "destroy": "run make local-down again, or stop everything without destroying: python -m local.down --force "
    "(the emulator keeps its state in memory only)",
}


def stack_file(paths: LocalPaths) -> Path:
    return paths.stack_dir / "cdk.tf.json"


def synthesize(endpoint: str, paths: LocalPaths, timeout: float = 600.0) -> Path:
    """``TAP_ENVIRONMENTS=local python main.py --if-changed``: ``<outdir>/stacks/local/cdk.tf.json``.

    A synth whose inputs did not change since the last one is skipped (``stacks/synth_inputs.py``).
    The local stack keeps its state on the emulator, whatever backend the shell (or the
    Makefile, which defaults to a local backend without a state bucket) asks for elsewhere.
    """
    settings = dict(os.environ, TAP_ENVIRONMENTS="local", TAP_EMULATOR_ENDPOINT=endpoint, TAP_BACKEND="s3")
    settings.update(CDKTF_OUTDIR=str(paths.outdir), PYTHONUNBUFFERED=os.environ.get("PYTHONUNBUFFERED", "1"))
    try:
        synth("local", settings, paths.log("synth"), timeout)
    except SynthFailed as failed:
        raise StepFailed(failed.what, failed.todo, failed.details) from None
    return stack_file(paths)


def terraform_cli() -> str:
    """The terraform CLI's path; a missing one is a :class:`StepFailed`."""
    try:
        return terraform_binary()
    except TerraformMissing as exc:
        raise StepFailed(str(exc), "install Terraform >= 1.10 (`terraform version` must work), then retry") from None


def terraform_errors(log: Path, limit: int = 40) -> str:
    """The ``Error:`` blocks of a Terraform log: the message and the resource it names (or
    the log's last lines when there is no such block)."""
    try:
        lines = _ANSI.sub("", log.read_text(errors="replace")).splitlines()
    except OSError:
        return "    (no log)"
    picked: list[str] = []
    for index, line in enumerate(lines):
        if not _ERROR.match(line):
            continue
        picked.append(line.strip("│ "))
        for follow in lines[index + 1 : index + 12]:
            text = follow.strip("│ ╵")
            if _ERROR.match(follow) or re.match(r"^\d+:", text):
                break  # the next error, or Terraform's excerpt of cdk.tf.json
            if text:
                picked.append("  " + text)
    return quoted(picked[:limit]) if picked else tail(log, 20)


def terraform(paths: LocalPaths, command: str) -> str:
    """``terraform init|apply|destroy`` in the stack folder, logged to ``terraform-COMMAND.log``;
    returns Terraform's last ``<Command> complete! …`` line (``Apply complete! Resources: …``)."""
    option, timeout = _OPTIONS[command]
    log = paths.log(f"terraform-{command}")
    argv = [terraform_cli(), command, option, "-input=false", "-no-color"]
    code = run_logged(argv, paths.stack_dir, emulator_env(), log, timeout)
    if code != 0:
        limit = " (time limit reached)" if code == -1 else ""
        todo = f"read the full log {shown(log)}; " + _TODO[command].format(shown(paths.emulator_log))
        raise StepFailed(f"terraform {command} exited with code {code}{limit}", todo, terraform_errors(log))
    prefix = f"{command.capitalize()} complete!"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith(prefix)]
    return lines[-1].strip() if lines else prefix.rstrip("!").lower()
