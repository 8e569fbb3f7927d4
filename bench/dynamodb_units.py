"""DynamoDB capacity units per request, measured on moto from the items each call touches.

moto answers ``ReturnConsumedCapacity`` with a constant, so this meter applies DynamoDB's
published rules to the real items instead, inside the lock that makes each moto operation
atomic (testkit.mixed_load.atomic_dynamodb): the item before and after each write, the
items each read returns, their sizes by moto's ``Item.size()`` (attribute names plus values,
DynamoDB's rule), and for each index the projected item. The rules:

* a read: 4 KB units of what it read, rounded up once per call, at least one; a strongly
  consistent ``GetItem`` costs 1 RCU a unit, an (eventually consistent) index ``Query`` 0.5;
* a write: 1 KB units of the larger of the item before and after, at least one, on the table
  (a failed conditional write costs the same); twice that in a transaction;
* each index (every global secondary index of the table, as moto holds it): for a write that
  puts an item in it, takes it out, or changes what it projects, 1 KB units of the projected
  item; a write that changes the index's key costs a delete of the old entry and a put of the
  new one.

It also counts the DynamoDB calls (``CALLS``), a failed conditional write included.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.responses import DynamoHandler

KB = 1024
READ_UNIT = 4 * KB
TABLE = "table"
#: The key under which :meth:`Meter.take` counts a request's DynamoDB calls.
CALLS = "DynamoDB calls"


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


class Meter:
    """A ``testkit.mixed_load.Observer`` that sums the units of the DynamoDB calls a thread
    makes between :meth:`start` and :meth:`take` (one API request)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def start(self) -> None:
        self.local.units = Counter()

    def take(self) -> Counter[str]:
        """``{"table WCU": …, "<index> WCU": …, "table RCU": …, CALLS: …}`` since :meth:`start`."""
        units: Counter[str] = getattr(self.local, "units", None) or Counter()
        self.local.units = None
        return units

    def __call__(self, operation: str, moto: DynamoHandler, call: Callable[[], Any]) -> Any:
        units: Counter[str] | None = getattr(self.local, "units", None)
        body = moto.body
        if units is None or operation == "delete_item":
            return call()
        units[CALLS] += 1
        table = moto.dynamodb_backend.get_table(body.get("TableName") or _first_table(body))
        if operation in ("get_item", "query"):
            result = call()
            units.update(_read(operation, table, body, result.result))
            return result
        transaction = operation == "transact_write_items"
        writes = [next(iter(t.values())) for t in body["TransactItems"]] if transaction else [body]
        befores = [copy.deepcopy(_stored(table, w)) for w in writes]  # moto updates items in place
        factor = 2 if transaction else 1
        try:
            result = call()
        except Exception:  # a failed condition: the table's units are spent all the same
            units[f"{TABLE} WCU"] += factor * sum(_units(_size(b), KB) for b in befores)
            raise
        for write, before in zip(writes, befores, strict=True):
            units.update(_written(table, before, _stored(table, write), factor))
        return result


def _read(operation: str, table: Any, body: dict[str, Any], answer: dict[str, Any]) -> dict[str, float]:
    if operation == "get_item":
        return {f"{TABLE} RCU": _units(_size(_stored(table, body)), READ_UNIT)}
    index = next((i for i in table.global_indexes if i.name == body.get("IndexName")), None)
    sizes = []
    for attrs in answer.get("Items", []):
        stored = table.get_item(DynamoType(attrs[table.hash_key_attr])) if table.hash_key_attr in attrs else None
        sizes.append(_size(index.project(stored) if index and stored else stored))
    scanned = answer.get("ScannedCount", len(sizes))
    total = sum(sizes) * scanned / len(sizes) if sizes else 0
    return {f"{index.name if index else TABLE} RCU": 0.5 * _units(int(total), READ_UNIT)}


def _written(table: Any, before: Item | None, after: Item | None, factor: int) -> Counter[str]:
    units: Counter[str] = Counter({f"{TABLE} WCU": factor * max(_units(_size(before), KB), _units(_size(after), KB))})
    for index in table.global_indexes:
        keys = [k["AttributeName"] for k in index.schema]
        old = index.project(before) if before and all(k in before.attrs for k in keys) else None
        new = index.project(after) if after and all(k in after.attrs for k in keys) else None
        if old is None or new is None:
            units[f"{index.name} WCU"] += sum(_units(_size(entry), KB) for entry in (old, new) if entry)
        elif any(old.attrs[k] != new.attrs[k] for k in keys):  # the key moved: delete and put
            units[f"{index.name} WCU"] += _units(_size(old), KB) + _units(_size(new), KB)
        elif old.attrs != new.attrs:
            units[f"{index.name} WCU"] += _units(_size(new), KB)
    return units


def _first_table(body: dict[str, Any]) -> str:
    first = next(iter(body["TransactItems"][0].values()))
    name: str = first["TableName"]
    return name


def _stored(table: Any, request: dict[str, Any]) -> Item | None:
    """The item a request names (``Key``, or the key of its ``Item``) as the table holds it now."""
    key = request.get("Key") or {table.hash_key_attr: request["Item"][table.hash_key_attr]}
    item: Item | None = table.get_item(DynamoType(key[table.hash_key_attr]))
    return item


def _size(item: Item | None) -> int:
    return item.size() if item is not None else 0
