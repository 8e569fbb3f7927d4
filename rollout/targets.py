"""What a rollout acts on and how to reach it: the function, its alias and the CodeDeploy
application and group, read from the stack's Terraform outputs (or given as flags), and the
boto3 clients for AWS or for the local emulator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from stacks.config import DEFAULT_REGION, ConfigError, operator_endpoint
from workspace import clients
from workspace.deployed import OutputsUnavailable, stack_outputs

#: Terraform output -> Target field (stacks/tap_stack.py writes them).
OUTPUTS = {
    "lambda_function_name": "function",
    "lambda_alias_name": "alias",
    "codedeploy_app_name": "app",
    "codedeploy_deployment_group_name": "group",
}


class RolloutError(RuntimeError):
    """A rollout cannot start; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Target:
    """The names a rollout needs."""

    function: str
    alias: str
    app: str
    group: str


def emulator_endpoint(env: str, given: str | None) -> str | None:
    """The emulator the ``local`` stack runs on (``--endpoint`` or ``TAP_EMULATOR_ENDPOINT``); None on AWS."""
    try:
        return operator_endpoint(env, given)
    except ConfigError as exc:
        raise RolloutError(str(exc)) from None


def read_outputs(directory: Path, endpoint: str | None) -> dict[str, Any]:
    """``terraform output -json`` of a deployed stack, as plain values."""
    try:
        return stack_outputs(directory, endpoint)
    except OutputsUnavailable as exc:
        raise RolloutError(f"{exc}, or name the targets with --function, --app and --group") from None


def resolve(outputs: dict[str, Any] | None, flags: dict[str, str | None]) -> Target:
    """Flags win over outputs; every name must come from one of them."""
    values: dict[str, str] = {}
    for output, field in OUTPUTS.items():
        value = flags.get(field) or (outputs or {}).get(output)
        if not value:
            raise RolloutError(
                f"the stack has no output {output} (deployed before rollouts existed?): deploy it again, "
                f"or pass --{field}"
            )
        values[field] = str(value)
    return Target(**values)


def aws_clients(endpoint: str | None) -> tuple[Any, Any]:
    """(lambda, codedeploy) clients: the emulator's, or AWS's with the caller's credentials."""
    if endpoint:
        return clients.client("lambda", endpoint), clients.client("codedeploy", endpoint)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    session = boto3.session.Session(region_name=region)
    return session.client("lambda"), session.client("codedeploy")
