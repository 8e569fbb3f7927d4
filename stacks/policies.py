"""JSON documents the stack hands AWS (IAM policies, the dashboard body) as Terraform
``jsonencode`` expressions, as the original HCL wrote its policies: Terraform compares them as
parsed JSON, so they line up with an HCL deployment's state, and ``make hcl`` renders them as
HCL objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stacks.cdk import core

Statement = dict[str, Any]


def statement(  # noqa: PLR0913 (one keyword per optional key of an IAM statement)
    actions: Sequence[str] | str,
    resources: Sequence[str] | str,
    *,
    effect: str = "Allow",
    condition: dict[str, Any] | None = None,
    principal: dict[str, Any] | str | None = None,
    sid: str | None = None,
) -> Statement:
    """One policy statement; optional keys are left out rather than emitted empty."""
    optional = {"Sid": sid, "Principal": principal, "Condition": condition}
    return {"Effect": effect, "Action": actions, "Resource": resources} | {k: v for k, v in optional.items() if v}


def _literal(value: Any) -> Any:
    """``value`` with every string escaped for an HCL string literal: CDKTF writes the
    strings of a function's arguments between quotes as they are (it escapes only ``${``
    and newlines), so a ``"`` or ``\\`` in one would end or break the literal. Token
    markers inside a string hold neither character and stay as they are."""
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_literal(item) for item in value]
    return value


def json_document(value: dict[str, Any]) -> str:
    """``value`` as a Terraform ``jsonencode`` expression (its strings may hold references)."""
    return core.Fn.jsonencode(_literal(value))


def policy_document(*statements: Statement) -> str:
    """A complete policy as a Terraform ``jsonencode`` expression."""
    return json_document({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str) -> str:
    """A trust policy letting one AWS service assume the role."""
    return policy_document({"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service}})
