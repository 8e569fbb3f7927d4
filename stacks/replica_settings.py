"""The audit replica region setting: ``TAP_AUDIT_REPLICA_REGION``.

Unset (the default), the stack has no replica and its plan is what it always was. Set to an
AWS region other than the stack's own, the stack adds a replica bucket there and replicates
the audit records to it (stacks/replication.py). Read and checked here, before the CDKTF
libraries load; a bad value stops the synth with one line naming it (exit status 2).

Like ``stacks/config.py``, this module imports nothing from cdktf.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from stacks.errors import ConfigError

SETTING = "TAP_AUDIT_REPLICA_REGION"
#: The replica bucket is ``<audit bucket>-replica-<region>``; S3 allows 63 characters.
REPLICA_BUCKET_INFIX = "-replica-"
MAX_BUCKET_NAME = 63


def read_replica_region(environ: Mapping[str, str]) -> str | None:
    """The region the setting names, or None when it is unset or empty."""
    return environ.get(SETTING, "").strip() or None


def replica_bucket_name(bucket: str, region: str) -> str:
    """The replica bucket's name for an audit bucket ``bucket`` and a replica region."""
    return f"{bucket}{REPLICA_BUCKET_INFIX}{region}"


def check_replica_region(
    env: str, stack_region: str, replica_region: str | None, bucket: str, region_pattern: str
) -> None:
    """Reject a replica region that is not a region, is the stack's own, or makes too long a name."""
    if replica_region is None:
        return
    if not re.match(region_pattern, replica_region):
        raise ConfigError(f"{env}: {SETTING}={replica_region!r} is not an AWS region name (e.g. us-east-1)")
    if replica_region == stack_region:
        raise ConfigError(
            f"{env}: {SETTING}={replica_region!r} is the stack's own region: a replica must be in another region"
        )
    name = replica_bucket_name(bucket, replica_region)
    if len(name) > MAX_BUCKET_NAME:
        raise ConfigError(
            f"{env}: {SETTING}={replica_region!r} makes the replica bucket name {name!r} longer than "
            f"{MAX_BUCKET_NAME} characters: shorten lambda_log_bucket_name"
        )
