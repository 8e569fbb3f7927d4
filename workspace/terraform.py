"""Run the Terraform CLI the same way everywhere: ``make local``, the migration commands, the tests.

Where the folder ``.terraformrc.mirror`` names exists, the AWS provider is installed from
that filesystem mirror (the registry is out of reach there); elsewhere it downloads as usual.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from workspace.clients import DUMMY_CREDENTIALS
from workspace.paths import PROJECT

MIRROR_CLI_CONFIG = PROJECT / ".terraformrc.mirror"
_MIRROR_PATH = re.compile(r'^\s*path\s*=\s*"([^"]+)"', re.MULTILINE)


class TerraformMissing(RuntimeError):
    """The ``terraform`` binary is not on PATH."""


def _mirror_exists() -> bool:
    """Whether the provider mirror folder ``.terraformrc.mirror`` names exists on this machine."""
    try:
        found = _MIRROR_PATH.search(MIRROR_CLI_CONFIG.read_text())
    except OSError:
        return False
    return found is not None and Path(found.group(1)).is_dir()


def terraform_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for Terraform, pointed at the provider mirror when present.

    An explicitly configured ``TF_CLI_CONFIG_FILE`` that exists is respected.
    """
    env = dict(os.environ if base is None else base)
    configured = env.get("TF_CLI_CONFIG_FILE")
    if not (configured and Path(configured).is_file()) and _mirror_exists():
        env["TF_CLI_CONFIG_FILE"] = str(MIRROR_CLI_CONFIG)
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("TF_INPUT", "0")
    return env


def emulator_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """:func:`terraform_env` for runs against the emulator: no real AWS setting, dummy credentials."""
    env = {k: v for k, v in terraform_env(base).items() if not k.startswith("AWS_")}
    env.update(DUMMY_CREDENTIALS, AWS_EC2_METADATA_DISABLED="true")
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
