"""Synthesize the ``local`` stack and drive Terraform against the emulator.

Every function here raises :class:`StepFailed` for the failures a user can meet (a stack
that does not synthesize, an apply the emulator refuses, a missing terraform), with the
log's telling lines and what to do next.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local.paths import LocalPaths
from local.progress import StepFailed
from workspace.processes import run_logged, tail
from workspace.synth import SynthFailed
from workspace.synth import synthesize as synth
from workspace.terraform import TerraformMissing, emulator_env, terraform_binary

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


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


def _binary(fix: str) -> str:
    """The terraform CLI's path; a missing one is a :class:`StepFailed` that says ``fix``."""
    try:
        return terraform_binary()
    except TerraformMissing as exc:
        raise StepFailed(str(exc), fix) from None


def _terraform_logged(args: Sequence[str], paths: LocalPaths, log_name: str, timeout: float) -> tuple[int, Path]:
    """``terraform ARGS`` in the stack folder, its output going to the log ``log_name``."""
    binary = _binary("install Terraform >= 1.10 and make sure `terraform version` works")
    log = paths.log(log_name)
    code = run_logged([binary, *args], paths.stack_dir, emulator_env(), log, timeout)
    return code, log


def terraform_errors(log: Path, limit: int = 40) -> str:
    """The ``Error:`` blocks of a Terraform log: the message and the resource it names (or
    the log's last lines when there is no such block)."""
    try:
        lines = _ANSI.sub("", log.read_text(errors="replace")).splitlines()
    except OSError:
        return "    (no log)"
    is_error = re.compile(r"^[│\s]*Error:")
    picked: list[str] = []
    for index, line in enumerate(lines):
        if not is_error.match(line):
            continue
        picked.append(line.strip("│ "))
        for follow in lines[index + 1 : index + 12]:
            text = follow.strip("│ ╵")
            if is_error.match(follow) or re.match(r"^\d+:", text):
                break  # the next error, or Terraform's excerpt of cdk.tf.json
            if text:
                picked.append("  " + text)
    if not picked:
        return tail(log, 20)
    return "\n".join("    | " + line for line in picked[:limit])


def _summary(log: Path, prefix: str) -> str:
    """Terraform's last ``<prefix> Resources: …`` line in ``log``, or the prefix alone."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith(prefix)]
    return lines[-1].strip() if lines else prefix.rstrip("!").lower()


def terraform_init(paths: LocalPaths, timeout: float = 600.0) -> None:
    code, log = _terraform_logged(
        ["init", "-input=false", "-no-color", "-reconfigure"], paths, "terraform-init", timeout
    )
    if code != 0:
        raise StepFailed(
            f"terraform init exited with code {code}",
            f"read {paths.rel(log)}; if the backend cannot be reached, check the emulator "
            f"({paths.rel(paths.emulator_log)}) or start afresh: make local-down && make local",
            terraform_errors(log),
        )


def terraform_apply(paths: LocalPaths, timeout: float = 1200.0) -> str:
    """Apply; returns Terraform's summary line (``Apply complete! Resources: …``)."""
    code, log = _terraform_logged(
        ["apply", "-auto-approve", "-input=false", "-no-color"], paths, "terraform-apply", timeout
    )
    if code != 0:
        raise StepFailed(
            f"terraform apply exited with code {code}" + (" (time limit reached)" if code == -1 else ""),
            f"read the full log {paths.rel(log)}; fix the resource it names (or report it), then run "
            "make local again (it reuses the emulator and applies what is missing)",
            terraform_errors(log),
        )
    return _summary(log, "Apply complete!")


def terraform_destroy(paths: LocalPaths, timeout: float = 1200.0) -> str:
    code, log = _terraform_logged(
        ["destroy", "-auto-approve", "-input=false", "-no-color"], paths, "terraform-destroy", timeout
    )
    if code != 0:
        raise StepFailed(
            f"terraform destroy exited with code {code}",
            f"read {paths.rel(log)}; run make local-down again, or stop everything without destroying: "
            "python -m local.down --force (the emulator keeps its state in memory only)",
            terraform_errors(log),
        )
    return _summary(log, "Destroy complete!")


def terraform_outputs(paths: LocalPaths) -> dict[str, Any]:
    """``terraform output -json`` as {name: value}."""
    result = subprocess.run(
        [_binary("install Terraform >= 1.10"), "output", "-json", "-no-color"],
        cwd=paths.stack_dir, env=emulator_env(), text=True, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise StepFailed("terraform output failed", "re-run make local", _indent(result.stdout + result.stderr))
    try:
        raw = json.loads(result.stdout or "{}")
    except ValueError:
        raise StepFailed(
            "terraform output -json printed no JSON", "re-run make local", _indent(result.stdout)
        ) from None
    return {name: entry.get("value") for name, entry in raw.items()}


def _indent(text: str, limit: int = 20) -> str:
    lines = text.rstrip("\n").splitlines()[-limit:]
    return "\n".join("    | " + line for line in lines)
