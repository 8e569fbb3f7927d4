"""Emulator mend: DynamoDB point-in-time recovery that restores the table as it was.

An undo journal of every item write (its time and the item before it) lets a restore start
from the current items and undo, newest first, every write made after the restore time.
Why, and what else changes: docs/local.md, "The emulator's mends". Installed by
:func:`workspace.patches.apply` before the lock that serves DynamoDB one operation at a time,
so a write and its journal entry are one step.
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.dynamodb.exceptions import ResourceNotFoundException, SourceTableNotFoundException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import RestoredPITTable
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from workspace.dynamodb_mend import put_back, snapshot

#: (when, hash key, range key or None, the item before the write or None)
_Entry = tuple[float, Any, Any, Any]
_JOURNAL = "_tap_pitr_journal"


def _journal(backend: Any, table_name: str) -> list[_Entry]:
    journals: dict[str, list[_Entry]] = backend.__dict__.setdefault(_JOURNAL, {})
    return journals.setdefault(table_name, [])


def _epoch(value: Any) -> float:
    """A request's timestamp (moto parses it to a datetime; naive means UTC) in epoch seconds."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def _state_at(table: Any, entries: list[_Entry], moment: float) -> Any:
    """The table's items at ``moment``: now, with every later write undone, newest first."""
    items = copy.deepcopy(table.items)
    for when, hash_value, range_value, before in reversed(entries):
        if when <= moment:
            break
        put_back(items, hash_value, range_value, copy.deepcopy(before))
    return items


def mend_point_in_time_recovery() -> None:
    """Journal item writes; restore and describe the recovery window as DynamoDB does."""
    # TransactWriteItems and BatchWriteItem write through these three too.
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        # ``_write`` binds this round's original now (a closure would see the loop's last one).
        def journaled(self: Any, table_name: str, key: Any, *args: Any, _write: Any = original, **kwargs: Any) -> Any:
            if found := snapshot(self.tables, table_name, key):
                _journal(self, table_name).append((time.time(), *found[1:]))
            return _write(self, table_name, key, *args, **kwargs)

        setattr(DynamoDBBackend, name, journaled)

    delete_table = DynamoDBBackend.delete_table
    restored_table: Any = RestoredPITTable  # moto's own class, built as moto builds it
    describe_continuous_backups = DynamoDBBackend.describe_continuous_backups

    def forgetting_delete_table(self: Any, name: str) -> Any:
        deleted = delete_table(self, name)
        self.__dict__.get(_JOURNAL, {}).pop(deleted.name, None)
        return deleted

    def describe_window(self: Any, table_name: str) -> dict[str, Any]:
        backups: dict[str, Any] = describe_continuous_backups(self, table_name)
        description = backups.get("PointInTimeRecoveryDescription", {})
        if description.get("PointInTimeRecoveryStatus") == "ENABLED":
            description["LatestRestorableDateTime"] = unix_time()
        return backups

    def restore(self: Any, target_table_name: str, source_table_name: str, moment: float | None = None) -> Any:
        try:
            source = self.get_table(source_table_name)
        except ResourceNotFoundException:
            raise SourceTableNotFoundException(source_table_name) from None
        window = self.describe_continuous_backups(source_table_name)["PointInTimeRecoveryDescription"]
        if window.get("PointInTimeRecoveryStatus") != "ENABLED":
            raise JsonRESTError("PointInTimeRecoveryUnavailableException", "Point in time recovery is not enabled")
        now = unix_time()
        moment = now if moment is None else moment
        earliest = float(window["EarliestRestorableDateTime"])
        if not earliest <= moment <= now:
            raise JsonRESTError(
                "InvalidRestoreTimeException", f"Restore time {moment} is outside the window [{earliest}, {now}]"
            )
        if target_table_name in self.tables:
            raise JsonRESTError("TableAlreadyExistsException", f"Table already exists: {target_table_name}")
        restored = restored_table(target_table_name, account_id=self.account_id, region=self.region_name, source=source)
        restored.items = _state_at(source, list(_journal(self, source_table_name)), moment)
        restored.restore_date_time = datetime.fromtimestamp(moment, UTC).replace(tzinfo=None)  # naive UTC, as moto
        self.tables[target_table_name] = restored
        return restored

    def restore_response(self: Any) -> Any:
        body = self.body
        moment = None if body.get("UseLatestRestorableTime") else body.get("RestoreDateTime")
        restored = self.dynamodb_backend.restore_table_to_point_in_time(
            body.get("TargetTableName"), body.get("SourceTableName"), None if moment is None else _epoch(moment)
        )
        return DynamoResult(restored.describe())

    DynamoDBBackend.delete_table = forgetting_delete_table  # type: ignore[method-assign]
    DynamoDBBackend.describe_continuous_backups = describe_window  # type: ignore[method-assign]
    DynamoDBBackend.restore_table_to_point_in_time = restore  # type: ignore[method-assign]
    DynamoHandler.restore_table_to_point_in_time = restore_response  # type: ignore[method-assign]
