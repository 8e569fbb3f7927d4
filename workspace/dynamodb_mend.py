"""Emulator mend: DynamoDB transactions that copy the items they touch, not whole tables.

moto 5.2's ``TransactWriteItems`` deep-copies every table a transaction names, once per
operation, to roll back; its cost grows with the table. The mend keeps moto's transaction
logic and its all-or-nothing outcome, but snapshots only the items the operations name and,
when the transaction fails, puts exactly those back.
"""

from __future__ import annotations

import copy
import types
from typing import Any

#: (table, hash key value, range key value or None, the item before the transaction or None)
_Snapshot = tuple[Any, Any, Any, Any]


def _snapshot(tables: dict[str, Any], transact_items: list[dict[str, Any]], key_type: Any) -> list[_Snapshot]:
    saved: list[_Snapshot] = []
    for entry in transact_items:
        operation = next(iter(entry.values()), None)
        if not isinstance(operation, dict):
            continue
        table = tables.get(operation.get("TableName", ""))
        attributes = operation.get("Item") or operation.get("Key") or {}
        if table is None or table.hash_key_attr not in attributes:
            continue
        hash_value = key_type(attributes[table.hash_key_attr])
        range_value = None
        if table.has_range_key:
            if table.range_key_attr not in attributes:
                continue  # moto rejects the operation itself; nothing changes
            range_value = key_type(attributes[table.range_key_attr])
        saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return saved


def _restore(saved: list[_Snapshot]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item


def patch_transactions() -> None:
    from moto.dynamodb import models  # noqa: PLC0415 - only inside the emulator process
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    backend = models.DynamoDBBackend
    if getattr(backend, "_tap_transactions_patched", False):
        return

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        # moto's own whole-table backup becomes the table itself (its "rollback" a no-op);
        # the snapshot below does the rolling back.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment,attr-defined]
    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _snapshot(self.tables, transact_items, DynamoType)
        try:
            original(self, transact_items)
        except Exception:
            _restore(saved)
            raise

    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    backend._tap_transactions_patched = True  # type: ignore[attr-defined]
