"""The restore's steps: restore into a new table, wait until it is ACTIVE, check it, copy its
items back into the live table, delete it.

**The copy rule.** Each restored item is compared with the live item of the same key
(a strongly consistent read) and written back with a conditional ``PutItem`` only when:

* the live item is missing (deleted since the restore time), written with
  ``attribute_not_exists`` of the key; idempotency-token items whose TTL has passed are
  skipped (DynamoDB's TTL would delete them again, and the handler treats them as free);
* the live item has no ``version`` where the restored one has (not a task as the API writes
  it), written if it still has none;
* the live item's ``version`` is lower, or equal with an older ``updated_at``, written only
  if the live item still has the version that was read.

Everything else keeps the live item: every change through the API raises ``version``, so a
higher live version is work done after the restore time. A conditional write that fails
means the API changed the item during the copy: the live item is kept. Items created after
the restore time are not in the restored table and are never touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from restore.target import RestoreError, Target

#: How the copy treats one restored item (the summary's counters).
MISSING, OLDER, EXPIRED, KEPT, RACED = "missing", "older", "expired", "kept", "raced"
#: Item attributes the rule reads (function/model.py, function/contract.py).
VERSION, UPDATED_AT, TTL = "version", "updated_at", "expires_at"
BATCH_GET = 100
Say = Callable[[str], None]


@dataclass
class CopyCounts:
    """What the copy did with each restored item."""

    read: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys((MISSING, OLDER, EXPIRED, KEPT, RACED), 0))

    @property
    def written(self) -> int:
        """Items written back: missing or older in the live table."""
        return self.outcomes[MISSING] + self.outcomes[OLDER]

    def line(self) -> str:
        o = self.outcomes
        return (
            f"{self.read} read, {self.written} written back ({o[MISSING]} missing, {o[OLDER]} older), "
            f"{o[KEPT]} kept as live (newer or the same), {o[RACED]} changed during the copy (kept), "
            f"{o[EXPIRED]} expired tokens skipped"
        )


def start(db: Any, target: Target) -> None:
    """RestoreTableToPointInTime into the temporary table, encrypted like the source."""
    request: dict[str, Any] = {
        "SourceTableName": target.table,
        "TargetTableName": target.temporary,
        "RestoreDateTime": target.moment,
    }
    if target.kms_key:
        request["SSESpecificationOverride"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": target.kms_key}
    db.restore_table_to_point_in_time(**request)


def wait_active(db: Any, table: str, say: Say, *, poll_seconds: float, timeout_seconds: float) -> float:
    """Seconds until ``table`` is ACTIVE; one line per status change and every minute."""
    started = time.monotonic()
    last: tuple[str, int] | None = None
    while True:
        status = str(db.describe_table(TableName=table)["Table"]["TableStatus"])
        elapsed = time.monotonic() - started
        if (status, int(elapsed // 60)) != last:
            last = (status, int(elapsed // 60))
            say(f"      {elapsed:7.1f} s  {table}: {status}")
        if status == "ACTIVE":
            return elapsed
        if elapsed >= timeout_seconds:
            raise RestoreError(f"{table} is still {status} after {timeout_seconds:g} s; it goes on (kept)")
        time.sleep(poll_seconds)


def count(db: Any, table: str) -> int:
    """Items in ``table``: a Scan with Select=COUNT, every page."""
    total = 0
    for page in db.get_paginator("scan").paginate(TableName=table, Select="COUNT", ConsistentRead=True):
        total += int(page["Count"])
    return total


def compare_sample(db: Any, target: Target, size: int) -> dict[str, list[str]]:
    """The first ``size`` restored items read back from the live table, field by field.

    Returns ``{"same": [...], "missing": [...], "differ": ["<key>: field, field", ...]}``.
    """
    found: dict[str, list[str]] = {"same": [], "missing": [], "differ": []}
    if size <= 0:
        return found
    items = db.scan(TableName=target.temporary, Limit=size, ConsistentRead=True)["Items"]
    live = _live_items(db, target, items)
    for item in items:
        name = _key_text(item, target.key_names)
        current = live.get(_key(item, target.key_names))
        if current is None:
            found["missing"].append(name)
            continue
        fields = sorted(k for k in set(item) | set(current) if item.get(k) != current.get(k))
        found["differ" if fields else "same"].append(f"{name}: {', '.join(fields)}" if fields else name)
    return found


def copy_back(db: Any, target: Target, say: Say, *, now_epoch: float, every_seconds: float = 5.0) -> CopyCounts:
    """Write restored items back into the live table by the rule above; progress as it goes."""
    counts = CopyCounts()
    shown = time.monotonic()
    for page in _pages(db, target.temporary):
        live = _live_items(db, target, page)
        for item in page:
            counts.read += 1
            outcome = _write_back(db, target, item, live.get(_key(item, target.key_names)), now_epoch)
            counts.outcomes[outcome] += 1
        if time.monotonic() - shown >= every_seconds:
            shown = time.monotonic()
            say(f"      {counts.line()}")
    return counts


def delete(db: Any, table: str) -> None:
    """Delete the temporary table (DynamoDB finishes it in the background)."""
    db.delete_table(TableName=table)


def _pages(db: Any, table: str) -> Iterator[list[dict[str, Any]]]:
    for page in db.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield list(page["Items"])


def _key(item: dict[str, Any], names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(repr(sorted(item[n].items())) for n in names)


def _key_text(item: dict[str, Any], names: tuple[str, ...]) -> str:
    return "/".join(str(next(iter(item[n].values()))) for n in names)


def _live_items(db: Any, target: Target, items: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
    """The live items with the keys of ``items`` (BatchGetItem, strongly consistent)."""
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    keys = [{n: item[n] for n in target.key_names} for item in items]
    for start_at in range(0, len(keys), BATCH_GET):
        request: dict[str, Any] = {
            target.table: {"Keys": keys[start_at : start_at + BATCH_GET], "ConsistentRead": True}
        }
        while request:
            answer = db.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(target.table, []):
                found[_key(item, target.key_names)] = item
            request = answer.get("UnprocessedKeys") or {}
            if request:
                time.sleep(0.1)
    return found


def _number(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name, {}).get("N")
    return int(value) if value is not None else None


def _write_back(db: Any, target: Target, item: dict[str, Any], live: dict[str, Any] | None, now_epoch: float) -> str:
    names = {f"#k{i}": n for i, n in enumerate(target.key_names)}
    values: dict[str, Any] = {}
    if live is None:
        expiry = _number(item, TTL)
        if expiry is not None and expiry < now_epoch:
            return EXPIRED
        condition, outcome = " AND ".join(f"attribute_not_exists({k})" for k in names), MISSING
    elif item == live:
        return KEPT
    else:
        mine, theirs = _number(item, VERSION), _number(live, VERSION)
        if mine is None:
            return KEPT  # not a task (a token item): it only ever comes back when missing
        if theirs is None:
            condition, outcome = "attribute_not_exists(#v)", OLDER
            names["#v"] = VERSION
        elif theirs < mine or (theirs == mine and _text(live, UPDATED_AT) < _text(item, UPDATED_AT)):
            condition, values, outcome = "#v = :v", {":v": live[VERSION]}, OLDER
            names["#v"] = VERSION
        else:
            return KEPT
    request: dict[str, Any] = {
        "TableName": target.table,
        "Item": item,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {k: v for k, v in names.items() if k in condition},
    }
    if values:
        request["ExpressionAttributeValues"] = values
    try:
        db.put_item(**request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return RACED
        raise
    return outcome


def _text(item: dict[str, Any], name: str) -> str:
    return str(item.get(name, {}).get("S", ""))
