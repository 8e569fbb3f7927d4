"""Facts about the target account that every part of the stack needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AwsContext:
    """Region, account, partition and the common tags as Terraform references (``${var.aws_region}``…):
    a ``-var aws_region=…`` at plan time flows into every ARN and service name."""

    region: str
    account_id: str
    partition: str
    tags: Mapping[str, str]

    def arn(self, service: str, resource: str) -> str:
        """An ARN in this account and region, e.g. ``arn("logs", "log-group:*")``."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    @property
    def account_root(self) -> dict[str, str]:
        """The policy principal standing for this account's IAM identities."""
        return {"AWS": f"arn:{self.partition}:iam::{self.account_id}:root"}

    def managed_policy_arn(self, name: str) -> str:
        """ARN of an AWS managed policy, e.g. ``service-role/AWSLambdaENIManagementAccess``."""
        return f"arn:{self.partition}:iam::aws:policy/{name}"
