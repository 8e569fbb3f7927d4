"""What a rollout acts on: the function, its alias and the CodeDeploy application and group,
read from the stack's Terraform outputs or given as flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workspace.operator_cli import CommandError

#: Terraform output -> Target field (stacks/tap_stack.py writes them).
OUTPUTS = {
    "lambda_function_name": "function",
    "lambda_alias_name": "alias",
    "codedeploy_app_name": "app",
    "codedeploy_deployment_group_name": "group",
}


class RolloutError(CommandError):
    """A rollout cannot start; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Target:
    """The names a rollout needs."""

    function: str
    alias: str
    app: str
    group: str


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
