"""What a restore acts on, checked before anything changes: the table (``--table`` or the
stack's Terraform output ``dynamodb_table_name``), the restore time against the table's
point-in-time recovery window, the temporary table's name, and the DynamoDB client for AWS
or for the local emulator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from stacks.config import DEFAULT_REGION, ConfigError, operator_endpoint
from workspace import clients
from workspace.deployed import OutputsUnavailable, stack_outputs
from workspace.paths import shown

OUTPUT = "dynamodb_table_name"
#: DynamoDB table names: 3-255 characters.
MAX_TABLE_NAME = 255


class RestoreError(RuntimeError):
    """A restore cannot start (or go on); the message is one line saying why."""


@dataclass(frozen=True)
class Target:
    """A restore, fully checked: from ``table`` as of ``moment`` into ``temporary``."""

    table: str
    moment: datetime
    temporary: str
    earliest: datetime
    latest: datetime
    key_names: tuple[str, ...]
    #: The source's KMS key ARN when it is encrypted with one; the restored table uses it too.
    kms_key: str | None


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with its UTC offset (``2026-05-01T12:00:00Z``), as an aware datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RestoreError(f"--to-time {text!r} is not an ISO 8601 time such as 2026-05-01T12:00:00Z") from None
    if moment.tzinfo is None:
        raise RestoreError(f"--to-time {text!r} has no UTC offset: add Z (UTC) or +HH:MM")
    return moment.astimezone(UTC)


def stamp(moment: datetime) -> str:
    """``20260501T120000Z``: a time as a table-name-safe word."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def iso(moment: datetime) -> str:
    """A time as the command prints it: ISO 8601 in UTC, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def emulator_endpoint(env: str, given: str | None) -> str | None:
    """The emulator the ``local`` stack runs on (``--endpoint`` or ``TAP_EMULATOR_ENDPOINT``); None on AWS."""
    try:
        return operator_endpoint(env, given)
    except ConfigError as exc:
        raise RestoreError(str(exc)) from None


def table_from_outputs(directory: Path, endpoint: str | None) -> str:
    """The deployed stack's ``dynamodb_table_name`` output."""
    try:
        value = stack_outputs(directory, endpoint).get(OUTPUT)
    except OutputsUnavailable as exc:
        raise RestoreError(f"{exc}, or name the table with --table") from None
    if not value:
        raise RestoreError(f"no output {OUTPUT} in {shown(directory)}: name the table with --table")
    return str(value)


def dynamodb_client(endpoint: str | None) -> Any:
    """The emulator's DynamoDB client, or AWS's with the caller's credentials and region."""
    if endpoint:
        return clients.client("dynamodb", endpoint)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    return boto3.session.Session(region_name=region).client("dynamodb")


def check(db: Any, table: str, moment: datetime, now: datetime) -> Target:
    """Every check a restore needs, read-only; :class:`RestoreError` names the first that fails."""
    try:
        window = db.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("TableNotFoundException", "ResourceNotFoundException"):
            raise RestoreError(f"table {table} does not exist here; nothing changed") from None
        raise
    recovery = window.get("PointInTimeRecoveryDescription", {})
    if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise RestoreError(f"point-in-time recovery is not enabled on {table}: it cannot be restored; nothing changed")
    earliest, latest = recovery["EarliestRestorableDateTime"], recovery["LatestRestorableDateTime"]
    if moment > now:
        raise RestoreError(f"--to-time {iso(moment)} is in the future (now {iso(now)}); nothing changed")
    if moment < earliest:
        raise RestoreError(
            f"--to-time {iso(moment)} is before {table}'s earliest restorable time {iso(earliest)}; nothing changed"
        )
    if moment > latest:
        raise RestoreError(
            f"--to-time {iso(moment)} is after {table}'s latest restorable time {iso(latest)} "
            "(DynamoDB's lags a few minutes behind now): wait or choose an earlier time; nothing changed"
        )
    temporary = f"{table}-restore-{stamp(moment)}"[:MAX_TABLE_NAME]
    if _exists(db, temporary):
        raise RestoreError(
            f"table {temporary} exists already (an earlier restore kept with --keep?): delete it first; nothing changed"
        )
    description = db.describe_table(TableName=table)["Table"]
    sse = description.get("SSEDescription", {})
    kms_key = sse.get("KMSMasterKeyArn") if sse.get("SSEType") == "KMS" else None
    keys = tuple(str(k["AttributeName"]) for k in description["KeySchema"])
    return Target(table, moment, temporary, earliest, latest, keys, kms_key)


def _exists(db: Any, table: str) -> bool:
    try:
        db.describe_table(TableName=table)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True
