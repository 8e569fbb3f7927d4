"""Emulator mend: DynamoDB point-in-time recovery that restores the table as it was.

moto 5.2's ``RestoreTableToPointInTime`` ignores ``RestoreDateTime`` and copies the source
table's items as they are now, and ``DescribeContinuousBackups`` keeps the
``LatestRestorableDateTime`` of the moment recovery was switched on. The mend keeps an undo
journal of every item write (``PutItem``, ``UpdateItem``, ``DeleteItem``, ``BatchWriteItem``'s
puts and deletes, ``TransactWriteItems``): the time and the item as it was before. A restore
starts from the current items and undoes, newest first, every write made after the restore
time, so the new table holds the items of that moment. A restore time outside
[EarliestRestorableDateTime, now] is refused with ``InvalidRestoreTimeException``, as on AWS,
and the latest restorable time is now (AWS lags about five minutes behind).

Installed by :func:`workspace.patches.apply` before the lock that serves DynamoDB one
operation at a time, so a write and its journal entry are one step.
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError

#: (when, hash key, range key or None, the item before the write or None)
_Entry = tuple[float, Any, Any, Any]
_JOURNAL = "_tap_pitr_journal"


class InvalidRestoreTime(JsonRESTError):
    """What DynamoDB answers for a restore time outside the recovery window."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRestoreTimeException", message)


def _journal(backend: Any, table_name: str) -> list[_Entry]:
    journals: dict[str, list[_Entry]] = backend.__dict__.setdefault(_JOURNAL, {})
    return journals.setdefault(table_name, [])


def _keys(table: Any, attributes: dict[str, Any], key_type: Any) -> tuple[Any, Any] | None:
    if table.hash_key_attr not in attributes:
        return None
    range_value = None
    if table.has_range_key:
        if table.range_key_attr not in attributes:
            return None
        range_value = key_type(attributes[table.range_key_attr])
    return key_type(attributes[table.hash_key_attr]), range_value


def _record(backend: Any, table_name: str, attributes: dict[str, Any], key_type: Any) -> None:
    table = backend.tables.get(table_name)
    keys = _keys(table, attributes or {}, key_type) if table is not None else None
    if keys is None:
        return
    before = table.get_item(*keys)
    _journal(backend, table_name).append((time.time(), *keys, copy.deepcopy(before)))


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
        if range_value is None:
            if before is None:
                items.pop(hash_value, None)
            else:
                items[hash_value] = copy.deepcopy(before)
        else:
            rows = items.setdefault(hash_value, {})
            if before is None:
                rows.pop(range_value, None)
            else:
                rows[range_value] = copy.deepcopy(before)
    return items


def mend_point_in_time_recovery() -> None:
    """Journal item writes; restore and describe the recovery window as DynamoDB does."""
    from moto.dynamodb.models import DynamoDBBackend  # noqa: PLC0415 - only inside the emulator process
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415

    if getattr(DynamoDBBackend, "_tap_pitr_mended", False):
        return
    _journal_writes(DynamoDBBackend, DynamoType)
    _restore_moments(DynamoDBBackend)
    DynamoDBBackend._tap_pitr_mended = True  # type: ignore[attr-defined]


def _journal_writes(backend: Any, key_type: Any) -> None:
    put_item, update_item, delete_item = backend.put_item, backend.update_item, backend.delete_item
    transact_write_items, delete_table = backend.transact_write_items, backend.delete_table

    def journaled_put(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        _record(self, table_name, item_attrs, key_type)
        return put_item(self, table_name, item_attrs, *args, **kwargs)

    def journaled_update(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        _record(self, table_name, key, key_type)
        return update_item(self, table_name, key, *args, **kwargs)

    def journaled_delete(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        _record(self, table_name, key, key_type)
        return delete_item(self, table_name, key, *args, **kwargs)

    def journaled_transaction(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        for entry in transact_items:
            operation = next(iter(entry.values()), None)
            if isinstance(operation, dict):
                attributes = operation.get("Item") or operation.get("Key") or {}
                _record(self, operation.get("TableName", ""), attributes, key_type)
        return transact_write_items(self, transact_items)

    def forgetting_delete_table(self: Any, name: str) -> Any:
        deleted = delete_table(self, name)
        self.__dict__.get(_JOURNAL, {}).pop(deleted.name, None)
        return deleted

    backend.put_item = journaled_put
    backend.update_item = journaled_update
    backend.delete_item = journaled_delete
    backend.transact_write_items = journaled_transaction
    backend.delete_table = forgetting_delete_table


def _restore_moments(backend: Any) -> None:
    from moto.core.utils import unix_time  # noqa: PLC0415 - only inside the emulator process
    from moto.dynamodb.exceptions import ResourceNotFoundException, SourceTableNotFoundException  # noqa: PLC0415
    from moto.dynamodb.models.table import RestoredPITTable  # noqa: PLC0415
    from moto.dynamodb.responses import DynamoHandler, DynamoResult  # noqa: PLC0415

    describe_continuous_backups = backend.describe_continuous_backups
    restored_table: Any = RestoredPITTable  # moto's own class, built as moto builds it

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
            raise InvalidRestoreTime(f"Restore time {moment} is outside the window [{earliest}, {now}]")
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

    backend.describe_continuous_backups = describe_window
    backend.restore_table_to_point_in_time = restore
    DynamoHandler.restore_table_to_point_in_time = restore_response  # type: ignore[method-assign]
