"""Terraform state of a ``make local`` deployment, read the way a test checks it."""

from __future__ import annotations

from pathlib import Path

from workspace.terraform import emulator_env, run_terraform


def state_list(stack_dir: Path) -> list[str]:
    """``terraform state list`` in ``stack_dir`` (its backend on the emulator); fails loudly when unreadable."""
    result = run_terraform(["state", "list"], stack_dir, env=emulator_env(), timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"terraform state list failed in {stack_dir}:\n{result.stdout}")
    return [line for line in result.stdout.splitlines() if line.strip()]
