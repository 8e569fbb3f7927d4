"""Run the Terraform CLI the same way everywhere: Makefile targets, tests and local/.

On machines that carry the AWS provider in a filesystem mirror (``/opt/tf-plugins``)
Terraform must be told to install from there, because the registry is out of reach;
everywhere else it downloads as usual.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
MIRROR = Path("/opt/tf-plugins")
MIRROR_CLI_CONFIG = ROOT / ".terraformrc.mirror"


class TerraformMissing(RuntimeError):
    """The ``terraform`` binary is not on PATH."""


def terraform_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for Terraform, pointed at the provider mirror when present.

    An explicitly configured ``TF_CLI_CONFIG_FILE`` that exists is respected.
    """
    env = dict(os.environ if base is None else base)
    configured = env.get("TF_CLI_CONFIG_FILE")
    if MIRROR.is_dir() and not (configured and Path(configured).is_file()):
        env["TF_CLI_CONFIG_FILE"] = str(MIRROR_CLI_CONFIG)
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("TF_INPUT", "0")
    return env


def terraform_binary() -> str:
    """Path of the terraform CLI, or a clear error saying how to get it."""
    found = shutil.which("terraform")
    if not found:
        raise TerraformMissing(
            "terraform is not on PATH: install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install)"
        )
    return found


def run_terraform(
    args: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform ARGS`` in ``cwd``; the caller decides what a non-zero exit means."""
    return subprocess.run(
        [terraform_binary(), *args],
        cwd=cwd,
        env=terraform_env(env),
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        timeout=timeout,
        check=False,
    )
