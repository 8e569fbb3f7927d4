"""The task record: statuses, queue keys, queue shards, write tokens, timestamps and the item <-> JSON mapping.

``status``, ``queue_key`` and ``queue_shard`` feed the sparse GSIs (docs/api.md, "Table
design"), so every write that changes ``status`` must also set the matching ``queue_key``,
and set ``queue_shard`` when the task becomes pending, remove it when it stops being pending.
"""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime
from typing import Any, Final

from function import attribute_values, contract

PENDING: Final = "pending"
ASSIGNED: Final = "assigned"
COMPLETED: Final = "completed"
STATUSES: Final = (PENDING, ASSIGNED, COMPLETED)

PAIRWISE: Final = "pairwise"
RANKING: Final = "ranking"
RATING: Final = "rating"
KINDS: Final = (PAIRWISE, RANKING, RATING)
#: The feedback field that judges each kind of task.
FEEDBACK_FIELDS: Final = {"preferred": PAIRWISE, "ranking": RANKING, "ratings": RATING}

#: Pending tasks are spread over this many shards of the queue (docs/api.md, "Races").
QUEUE_SHARDS: Final = 128

#: Every conditional update of a task stores a token new to it here, and moves the token it
#: replaces to ``PRIOR_WRITE_ID``: a resent write recognises its own first attempt by them.
WRITE_ID: Final = "write_id"
PRIOR_WRITE_ID: Final = "prior_write_id"

TOKEN_PREFIX: Final = "token#"
# Task ids are lowercase UUIDs: anything else (e.g. a "token#..." id) never reaches the table.
TASK_ID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# What clients see, in this order (not the index attributes queue_key, pending_key and
# queue_shard, nor the write tokens).
_PUBLIC_ORDER: Final = (
    "id", "status", "kind", "prompt", "responses", "priority", "metadata",
    "created_at", "updated_at", "version",
    "assignee", "lease_expires_at", "feedback", "completed_at",
)  # fmt: skip


def timestamp(moment: datetime) -> str:
    """Fixed-width ISO 8601 UTC with microseconds, so that string order is
    time order: GSI sort keys and lease comparisons rely on it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> datetime:
    return datetime.now(UTC)


def pending_queue_key(priority: int, created_at: str, task_id: str) -> str:
    """Ascending order = highest priority first, then oldest first."""
    return f"{contract.priority_rank(priority)}#{created_at}#{task_id}"


def priority_of(queue_key: str) -> str:
    """A pending queue key's priority rank (its leading digit: lower is claimed first)."""
    return queue_key[0]


def shard_name(number: int) -> str:
    """The ``queue_shard`` value of shard ``number`` (0 to QUEUE_SHARDS - 1)."""
    return str(number)


def queue_shard(task_id: str) -> str:
    """The shard a pending task is in: a hash of its id, so every writer agrees."""
    return shard_name(zlib.crc32(task_id.encode()) % QUEUE_SHARDS)


def timed_queue_key(at: str, task_id: str) -> str:
    """Assigned (``at`` = lease expiry: ``queue_key < now`` selects exactly the expired
    leases) and completed tasks."""
    return f"{at}#{task_id}"


def compact_json(value: Any) -> str:
    """How metadata is stored (a JSON string: floats, empty keys and deep nesting
    round-trip exactly, unlike a DynamoDB map) and measured against its size limit."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_attribute_values(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plain Python values -> DynamoDB attribute values (ints stay exact)."""
    return {name: attribute_values.serialize(value) for name, value in values.items()}


def from_item(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """DynamoDB item -> plain values, with numbers back to ``int``."""
    return {name: attribute_values.deserialize(value) for name, value in item.items()}


def public_task(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The client-facing task, metadata as an object."""
    values = from_item(item)
    values["metadata"] = json.loads(values.get("metadata", "{}"))
    return {name: values[name] for name in _PUBLIC_ORDER if name in values}


def written_by(item: dict[str, dict[str, Any]], write_id: str) -> bool:
    """Whether the write with ``write_id`` is the last or the one before on ``item`` (as stored)."""
    return write_id in (item.get(WRITE_ID, {}).get("S"), item.get(PRIOR_WRITE_ID, {}).get("S"))


def is_task(item: dict[str, Any] | None) -> bool:
    """Idempotency-token items share the table but have no ``status``."""
    return item is not None and "status" in item
