"""Facts about the target account that every part of the stack needs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AwsContext:
    """Region, account and partition as Terraform references, plus the common tags.

    The values are tokens (``${data.aws_region.current.name}``, ``${var.tags}``…), so
    a ``-var aws_region=…`` at plan time flows into every ARN and service name.
    """

    region: str
    account_id: str
    partition: str
    tags: dict[str, str]

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        """An ARN in this account and region, e.g. ``arn(\"logs\", \"log-group:x\")``."""
        return ":".join(
            [
                "arn",
                self.partition,
                service,
                self.region if region else "",
                self.account_id if account else "",
                resource,
            ]
        )
