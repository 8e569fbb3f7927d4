"""What the stack and the handler must agree on, defined once.

The stack (``stacks/``) builds the table, the function's environment, its handler setting,
its package and its S3 permissions from these names; the handler (this package) reads the
same ones. It imports nothing but the standard library, so the stack loads it without the
rest of the handler (an import contract in pyproject.toml keeps it that way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: The function's entry point as Lambda names it: a module at the zip's root and its function.
HANDLER_MODULE: Final = "lambda_function"
HANDLER_FUNCTION: Final = "lambda_handler"
HANDLER: Final = f"{HANDLER_MODULE}.{HANDLER_FUNCTION}"
#: Where that function is written: the package's entry module only imports it from here.
HANDLER_SOURCE: Final = "function.handler"

#: Environment variables the stack sets and the handler reads.
TABLE_ENV: Final = "DYNAMODB_TABLE"
LOG_BUCKET_ENV: Final = "LOG_BUCKET"
API_KEY_SECRET_ENV: Final = "API_KEY_SECRET"
ENVIRONMENT: Final = (TABLE_ENV, LOG_BUCKET_ENV, API_KEY_SECRET_ENV)

#: The API key secret's JSON fields: ``api_keys`` (the list the handler accepts, oldest first),
#: ``issued_at`` (fingerprint -> when the key was made, ISO 8601 UTC) and ``retire_at``
#: (fingerprint -> when a superseded key stops working). Only ``api_keys`` is required: a
#: secret of the original shape, ``{"api_keys": [...]}``, still works (docs/security.md).
API_KEYS_FIELD: Final = "api_keys"
ISSUED_AT_FIELD: Final = "issued_at"
RETIRE_AT_FIELD: Final = "retire_at"
#: How long a handler container trusts its last read of that secret (seconds). A rotation's
#: retirement window must be longer (stacks/key_settings.py checks it), and callers move to a
#: new key only once it is this old, when every container has read it (docs/api.md).
KEY_CACHE_TTL_SECONDS: Final = 300.0

#: Key prefix of the audit records: the function may write only below it, and the bucket's
#: lifecycle moves exactly these objects to cheaper storage.
AUDIT_PREFIX: Final = "audit/"

#: The handler's metrics (Embedded Metric Format, function/metrics.py): their namespace, the
#: dimension naming the function, and the metric the pending-task alarm watches.
METRICS_NAMESPACE: Final = "TapStack/TaskApi"
METRICS_SERVICE_DIMENSION: Final = "Service"
OLDEST_PENDING_METRIC: Final = "OldestPendingTaskAgeSeconds"

#: The table's partition key; every key attribute (table and indexes) is a string.
HASH_KEY: Final = "id"
KEY_ATTRIBUTE_TYPE: Final = "S"


@dataclass(frozen=True)
class Index:
    """A global secondary index of the task table, as the handler queries it."""

    name: str
    hash_key: str
    range_key: str
    #: ALL copies whole tasks into the index; INCLUDE copies only the keys and these.
    projection_type: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()


#: Listing a status newest first: the handler returns whole tasks straight from the index.
CREATED_INDEX: Final = Index("status-created-index", "status", "created_at")
#: Claiming: pending by priority then age (the head of the whole queue), leases by expiry.
#: The handler reads only keys of its candidates; ``version`` is projected since the index was
#: made (changing a projection rebuilds the index).
QUEUE_INDEX: Final = Index(
    "status-queue-index", "status", "queue_key", projection_type="INCLUDE", non_key_attributes=("version",)
)
#: Claiming under contention: only pending tasks carry ``queue_shard`` (a hash of the id), so
#: each shard is a small random part of the pending queue, in queue order; keys only.
SHARD_INDEX: Final = Index("queue-shard-index", "queue_shard", "queue_key", projection_type="KEYS_ONLY")
INDEXES: Final = (CREATED_INDEX, QUEUE_INDEX, SHARD_INDEX)

#: The table's TTL attribute (epoch seconds): idempotency-token items carry their expiry in it.
TTL_ATTRIBUTE: Final = "expires_at"


def key_attributes() -> tuple[str, ...]:
    """Every attribute the table must declare: its key, then each index key once."""
    names = [HASH_KEY, *(name for index in INDEXES for name in (index.hash_key, index.range_key))]
    return tuple(dict.fromkeys(names))


#: Task priority: higher is claimed first.
MIN_PRIORITY: Final = 0
MAX_PRIORITY: Final = 9


def priority_rank(priority: int) -> str:
    """The queue key's leading digit: ascending string order is descending priority.

    One digit per priority keeps string order equal to number order, so the range must
    stay within 0-9.
    """
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise ValueError(f"priority {priority} is outside {MIN_PRIORITY}-{MAX_PRIORITY}")
    return str(MAX_PRIORITY - priority)
