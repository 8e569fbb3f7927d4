"""One deployment of the original HCL on the local emulator, shared by every migration test.

The original HCL is the user's code and is not part of the repository: the tests read it
from ``MIGRATION_ORIGINAL_HCL`` (``make test ORIGINAL=DIR``; default ``../shared/seed/``
beside the project, where CI keeps it). Without it the tests that need it are skipped,
saying why; an explicitly set folder that does not exist fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from migration import prove
from stacks.cdk import bindings, core
from workspace import emulator as moto
from workspace import processes

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ORIGINAL = ROOT.parent / "shared" / "seed"
#: Exit status of a command that could not judge (bad input): one line, nothing written.
CANNOT_JUDGE = 2


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without TAP_* settings or real AWS credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "AWS_")) and k != "CDKTF_OUTDIR"}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, **extra})  # fmt: skip
    return env


def run_migration(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 900) -> Run:
    """``python -m migration ARGS`` as a user runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "migration", *map(str, args)],
        cwd=ROOT, env=env or clean_environ(), text=True, capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def original_dir() -> Path:
    configured = os.environ.get("MIGRATION_ORIGINAL_HCL", "").strip()
    folder = ROOT / configured if configured else DEFAULT_ORIGINAL
    if not (folder / "main.tf").is_file():
        if configured:
            pytest.fail(f"MIGRATION_ORIGINAL_HCL={configured} holds no main.tf")
        pytest.skip(f"the original HCL is not at {folder} (make test ORIGINAL=DIR runs these tests)")
    return folder.resolve()


@pytest.fixture(scope="session")
def running_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[moto.RunningEmulator]:
    with moto.temporary(tmp_path_factory.mktemp("migration-emulator")) as running:
        yield running
    assert not processes.pid_alive(running.pid)
    assert processes.wait_port_free(running.port)


@pytest.fixture(scope="session")
def original_state(
    original_dir: Path, running_emulator: moto.RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The state of the original HCL, deployed once to the session's emulator."""
    work = tmp_path_factory.mktemp("original") / "hcl"
    return prove.deploy_original(original_dir, work, running_emulator.endpoint, clean_environ())


@pytest.fixture
def state_copy(original_state: Path, tmp_path: Path) -> Path:
    """A private copy of the original's state, for tests that change it."""
    return Path(shutil.copy(original_state, tmp_path / "original.tfstate"))


@pytest.fixture
def make_variant(prod_stack_dir: Path, tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """A copy of the synthesized prod stack with ``edit`` applied to its Terraform JSON."""

    def make(edit: Callable[[dict[str, Any]], None]) -> Path:
        folder = tmp_path / "variant"
        shutil.copytree(prod_stack_dir, folder, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        stack = json.loads((folder / "cdk.tf.json").read_text())
        edit(stack)
        (folder / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
        return folder

    return make


@pytest.fixture(scope="session")
def cdktf_vpc_move() -> list[dict[str, str]]:
    """The ``moved`` blocks CDKTF synthesizes for a VPC renamed ``primary`` that declares
    ``move_from_id("aws_vpc.main")``: what a variant adds to declare that rename."""
    stack = core.TerraformStack(core.Testing.app(), "moved")
    bindings.vpc.Vpc(stack, "primary", cidr_block="10.0.0.0/16").move_from_id("aws_vpc.main")
    moved: list[dict[str, str]] = json.loads(core.Testing.synth(stack))["moved"]
    return moved
