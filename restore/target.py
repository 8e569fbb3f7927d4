"""What a restore acts on, checked before anything changes: the restore time against the
table's point-in-time recovery window, the temporary table's name, the table's keys and KMS key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from workspace.operator_cli import CommandError

#: DynamoDB table names: 3-255 characters.
MAX_TABLE_NAME = 255


class RestoreError(CommandError):
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
