"""``terraform plan`` of a copy of a synthesized stack, as plan JSON.

An override file in the copy points the backend at the state to judge (or keeps the
stack's own) and, with an emulator, every AWS endpoint at it. Nothing is written to any
state: the plan runs with ``-lock=false``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from migration.errors import CannotJudge
from workspace.terraform import TerraformMissing, run_terraform

#: Services whose endpoints point at the emulator (Terraform's names).
EMULATED_SERVICES = (
    "apigateway", "applicationautoscaling", "cloudwatch", "dynamodb", "ec2", "iam",
    "kms", "lambda", "logs", "s3", "secretsmanager", "sns", "sts",
)  # fmt: skip
OVERRIDE_FILE = "zz_migration_override.tf.json"
#: Terraform's own files in a configuration folder, left out of every copy.
TERRAFORM_FILES = (".terraform", "*.tfstate", "*.tfstate.backup", ".terraform.lock.hcl")
#: Dummy credentials an emulator accepts (they open nothing on AWS), and no checks only AWS passes.
_EMULATOR_ACCESS = {"access_key": "test", "secret_key": "test", "skip_credentials_validation": True,
                    "skip_region_validation": True, "skip_requesting_account_id": True}  # fmt: skip
#: Seconds one terraform command may take.
TIMEOUT = 900.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def emulator_provider(endpoint: str) -> dict[str, Any]:
    """Provider settings that send every call of the AWS provider to the emulator."""
    return {**_EMULATOR_ACCESS, "skip_metadata_api_check": "true", "s3_use_path_style": True, "max_retries": 2,
            "endpoints": [{service: endpoint for service in EMULATED_SERVICES}]}  # fmt: skip


def terraform_version() -> str:
    """The version of the terraform on PATH (``1.11.4``)."""
    try:
        result = run_terraform(["version", "-json"], Path.cwd(), timeout=60)
    except TerraformMissing as exc:
        raise CannotJudge(str(exc).split(":")[0], "install Terraform >= 1.10") from None
    try:
        return str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError):
        raise CannotJudge("terraform version -json printed no version", "check the terraform on PATH") from None


def first_error(output: str) -> str:
    """Terraform's first ``Error:`` message with its detail, on one line."""
    lines = [line.strip("│╵ ").strip() for line in _ANSI.sub("", output).splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            detail = next((x for x in lines[index + 1 : index + 8] if x and not x.startswith("with ")), "")
            return f"{line[6:].strip()}" + (f" ({detail})" if detail else "")
    tail = [line for line in lines if line]
    return tail[-1] if tail else "no output"


def _todo_for(message: str) -> str:
    """What to do about a failed plan of the stack, from Terraform's message."""
    lowered = message.lower()
    if "credential" in lowered:
        return "set AWS credentials that can read the deployment (AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    if "connect" in lowered or "dial tcp" in lowered or "no such host" in lowered:
        return "check the network connection to AWS (or that the emulator runs)"
    return "fix the cause above and run the check again"


def run_steps(folder: Path, env: dict[str, str], steps: list[list[str]], of: str, todo: Callable[[str], str]) -> None:
    """``terraform STEP`` in ``folder`` for each step; the first that fails is a one-line refusal
    (``terraform init{of} failed: <Terraform's first error>``; ``todo`` says what to do about it)."""
    for args in steps:
        try:
            result = run_terraform(args, folder, env=env, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            what = f"terraform {args[0]}{of} did not finish in {TIMEOUT:.0f} s"
            raise CannotJudge(what, "check the network (and the emulator's log, with an emulator)") from None
        if result.returncode != 0:
            message = first_error(result.stdout or "")
            raise CannotJudge(f"terraform {args[0]}{of} failed: {message}", todo(message))


def emulator_s3_backend(bucket: str, key: str, region: str, endpoint: str) -> dict[str, Any]:
    """The stack's S3 backend, on the emulator."""
    return {
        "s3": {
            "bucket": bucket, "key": key, "region": region, "encrypt": True, "use_lockfile": True, **_EMULATOR_ACCESS,
            "endpoints": {"s3": endpoint, "sts": endpoint}, "use_path_style": True, "skip_metadata_api_check": True,
            "skip_s3_checksum": True,
        }
    }  # fmt: skip


def plan(
    stack_dir: Path,
    work: Path,
    env: dict[str, str],
    backend: dict[str, Any] | None,
    emulator: str | None = None,
) -> dict[str, Any]:
    """Init and plan a copy of ``stack_dir`` (checked by :func:`migration.addresses.read_stack` before)
    with ``backend`` (None: its own); ``terraform show -json`` of the plan."""
    folder = work / "stack"
    shutil.copytree(stack_dir, folder, ignore=shutil.ignore_patterns(*TERRAFORM_FILES, "*.tfplan", "tfplan"))
    override: dict[str, Any] = {"terraform": {"backend": backend}} if backend else {}
    if emulator:
        override["provider"] = {"aws": emulator_provider(emulator)}
    (folder / OVERRIDE_FILE).write_text(json.dumps(override, indent=2), encoding="utf-8")
    steps = [
        ["init", "-input=false", "-no-color", "-reconfigure"],
        ["plan", "-input=false", "-no-color", "-lock=false", "-out=migration.tfplan"],
    ]
    run_steps(folder, env, steps, "", _todo_for)
    shown = run_terraform(["show", "-json", "-no-color", "migration.tfplan"], folder, env=env, timeout=TIMEOUT)
    try:
        return dict(json.loads(shown.stdout))
    except ValueError:
        raise CannotJudge("terraform show -json printed no plan", "run terraform show by hand to see why") from None
