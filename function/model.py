"""The task record: statuses, queue keys, timestamps and the item <-> JSON mapping.

The table layout is fixed by the stack (see docs/api.md, "Table design"):
``status`` and ``queue_key`` feed two sparse GSIs, so every write that changes
``status`` must also set the matching ``queue_key`` in the same UpdateItem.
"""

from __future__ import annotations

import json
import re
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

CREATED_INDEX: Final = contract.CREATED_INDEX.name
QUEUE_INDEX: Final = contract.QUEUE_INDEX.name
TOKEN_PREFIX: Final = "token#"
# Idempotency-token items carry their expiry here (epoch seconds): the table's TTL
# attribute, so DynamoDB deletes them once the replay window is over.
TOKEN_EXPIRY: Final = contract.TTL_ATTRIBUTE
# Task ids are lowercase UUIDs; anything else (e.g. a "token#..." id) is
# rejected before it can reach the table.
TASK_ID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Attributes that exist only to drive the indexes; never returned to clients.
_INTERNAL: Final = frozenset({"queue_key", "pending_key"})
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


def assigned_queue_key(lease_expires_at: str, task_id: str) -> str:
    """Ascending order = earliest lease expiry first; ``queue_key < now``
    selects exactly the expired leases."""
    return f"{lease_expires_at}#{task_id}"


def completed_queue_key(completed_at: str, task_id: str) -> str:
    return f"{completed_at}#{task_id}"


def to_attribute_values(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plain Python values -> DynamoDB attribute values (ints stay exact)."""
    return {name: attribute_values.serialize(value) for name, value in values.items()}


def from_item(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """DynamoDB item -> plain values, with numbers back to ``int``."""
    return {name: attribute_values.deserialize(value) for name, value in item.items()}


def public_task(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The client-facing task: fixed key order, metadata as an object,
    internal index attributes dropped."""
    values = from_item(item)
    values["metadata"] = json.loads(values.get("metadata", "{}"))
    return {name: values[name] for name in _PUBLIC_ORDER if name in values and name not in _INTERNAL}


def is_task(item: dict[str, Any] | None) -> bool:
    """Idempotency-token items share the table but have no ``status``."""
    return bool(item) and "status" in item  # type: ignore[operator]
