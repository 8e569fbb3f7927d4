"""A deployed environment as the operator commands (rollout, restore, keyops) find it: the
folder of its synthesized stack and the Terraform outputs of what was applied from there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workspace.paths import PROJECT, local_dirs, shown
from workspace.terraform import TerraformMissing, emulator_env, run_terraform

OUTPUT_SECONDS = 120


class OutputsUnavailable(RuntimeError):
    """No outputs to read; the message is one line, to which a caller adds what to pass instead."""


def stack_dir(env: str) -> Path:
    """Where the environment's synthesized stack lives (``make local`` moves ``local``'s)."""
    if env == "local":
        return local_dirs()[1] / "stacks" / "local"
    return PROJECT / "cdktf.out" / "stacks" / env


def stack_outputs(directory: Path, endpoint: str | None) -> dict[str, Any]:
    """``terraform output -json`` of the stack deployed from ``directory``, as plain values
    (against the emulator at ``endpoint``, or AWS when None)."""
    if not (directory / ".terraform").is_dir():
        raise OutputsUnavailable(f"no initialised stack in {shown(directory)}: deploy it first")
    try:
        result = run_terraform(
            ["output", "-json", "-no-color"], directory, emulator_env() if endpoint else None, timeout=OUTPUT_SECONDS
        )
    except TerraformMissing as exc:
        raise OutputsUnavailable(str(exc)) from None
    if result.returncode != 0:
        last = (result.stdout or "").strip().splitlines()[-1:] or ["(no output)"]
        raise OutputsUnavailable(f"terraform output failed in {shown(directory)}: {last[0]}")
    return {name: body.get("value") for name, body in json.loads(result.stdout or "{}").items()}
