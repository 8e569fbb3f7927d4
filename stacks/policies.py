"""IAM policy documents, built the way the original HCL built them (``jsonencode``).

Terraform compares policies as parsed JSON, so documents written here line up with the
state of an HCL deployment whenever their content is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stacks.cdk import core

Fn = core.Fn
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


def policy_document(*statements: Statement) -> str:
    """A complete policy as a Terraform ``jsonencode`` expression."""
    return Fn.jsonencode({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str) -> str:
    """A trust policy letting one AWS service assume the role."""
    return policy_document({"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service}})
