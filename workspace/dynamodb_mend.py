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

from moto.dynamodb import models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

#: (table, hash key value, range key value or None, a copy of the item as it is, or None)
Snapshot = tuple[Any, Any, Any, Any]


def snapshot(tables: dict[str, Any], table_name: str, attributes: dict[str, Any] | None) -> Snapshot | None:
    """The item whose key ``attributes`` hold, as it is now; None when the table or a key is
    missing (moto rejects such an operation itself; nothing changes)."""
    table = tables.get(table_name)
    attributes = attributes or {}
    if table is None or table.hash_key_attr not in attributes:
        return None
    range_value = None
    if table.has_range_key:
        if table.range_key_attr not in attributes:
            return None
        range_value = DynamoType(attributes[table.range_key_attr])
    hash_value = DynamoType(attributes[table.hash_key_attr])
    return table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))


def put_back(items: dict[Any, Any], hash_value: Any, range_value: Any, item: Any) -> None:
    """Make ``item`` (None: no item) the one under these keys in a table's ``items``."""
    rows, key = (items, hash_value) if range_value is None else (items.setdefault(hash_value, {}), range_value)
    if item is None:
        rows.pop(key, None)
    else:
        rows[key] = item


def patch_transactions() -> None:
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        # moto's own whole-table backup becomes the table itself (its "rollback" a no-op);
        # the snapshot below does the rolling back.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment,attr-defined]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            operation = next(iter(entry.values()), None)
            if isinstance(operation, dict):
                attributes = operation.get("Item") or operation.get("Key")
                if found := snapshot(self.tables, operation.get("TableName", ""), attributes):
                    saved.append(found)
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                put_back(table.items, hash_value, range_value, item)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
