"""Task persistence: every state change is one conditional DynamoDB write.

The conditions, not a read-then-write, decide who wins a race. On failure the item's
current state comes back with the error (``ReturnValuesOnConditionCheckFailure=ALL_OLD``),
so telling the caller why (404 vs which 409) costs no extra read. Calls per action:
docs/api.md, "Runtime behaviour".
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final

from function import claiming, contract, errors, metrics, model, paging, refusals
from function import settings as s
from function.commands import ClaimTask, CreateTask, ListTasks, ReleaseTask, SubmitFeedback

_NAME_TOKEN: Final = re.compile(r"#(\w+)")
#: The claim queues: pending tasks in queue order, and leases expired before ``:now``.
_PENDING_QUEUE: Final = ("#status = :status", {":status": model.PENDING})
_EXPIRED_QUEUE: Final = "#status = :status AND #queue_key < :now"


@dataclass(frozen=True)
class Rejected:
    """A conditional write that lost: ``current`` is the item as it is now
    (plain values), or None when there is no such task."""

    current: dict[str, Any] | None


class TaskRepository:
    def __init__(self, client: Any, table: str, spread: claiming.Spread | None = None) -> None:
        self._db = client
        self._table = table
        self._spread = spread or claiming.Spread()

    # -- create ------------------------------------------------------------

    def create(self, cmd: CreateTask) -> tuple[int, dict[str, Any]]:
        """201 with the new task, or 200 with the existing one when the same
        ``client_token`` already created the same task."""
        task_id = str(uuid.uuid4())
        moment = model.now()
        at = model.timestamp(moment)
        new = cmd.task
        queue_key = model.pending_queue_key(new.priority, at, task_id)
        values = {
            "id": task_id,
            "status": model.PENDING,
            "kind": new.kind,
            "prompt": new.prompt,
            "responses": list(new.responses),
            "priority": new.priority,
            "metadata": model.compact_json(new.metadata),
            "created_at": at,
            "updated_at": at,
            "version": 1,
            "queue_key": queue_key,
            "pending_key": queue_key,
        }
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": model.to_attribute_values(values),
            "ConditionExpression": "attribute_not_exists(#id)",
            "ExpressionAttributeNames": {"#id": "id"},
        }
        if cmd.client_token is None:
            self._db.put_item(**put)
            return 201, model.public_task(put["Item"])
        token = {
            "TableName": self._table,
            "Item": model.to_attribute_values(
                {
                    "id": model.TOKEN_PREFIX + cmd.client_token,
                    "fingerprint": new.fingerprint(),
                    "task_id": task_id,
                    "created_at": at,
                    contract.TTL_ATTRIBUTE: int((moment + s.TOKEN_REPLAY_WINDOW).timestamp()),
                }
            ),
            # A token older than the replay window is free again, whether or not
            # DynamoDB's TTL sweep (which may lag by days) has deleted it yet.
            "ConditionExpression": "attribute_not_exists(#id) OR #created_at < :window_start",
            "ExpressionAttributeNames": {"#id": "id", "#created_at": "created_at"},
            "ExpressionAttributeValues": {":window_start": {"S": model.timestamp(moment - s.TOKEN_REPLAY_WINDOW)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            self._db.transact_write_items(TransactItems=[{"Put": put}, {"Put": token}])
        except self._db.exceptions.TransactionCanceledException as exc:
            return 200, self._replay(exc.response.get("CancellationReasons", []), new.fingerprint())
        return 201, model.public_task(put["Item"])

    def _replay(self, reasons: list[dict[str, Any]], fingerprint: str) -> dict[str, Any]:
        token_reason = reasons[1] if len(reasons) > 1 else {}
        if token_reason.get("Code") == "ConditionalCheckFailed" and "Item" in token_reason:
            existing = model.from_item(token_reason["Item"])
            if existing["fingerprint"] != fingerprint:
                raise errors.idempotency_conflict()
            return self.get(existing["task_id"])
        if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
            raise errors.write_conflict("a concurrent request with the same client_token is in progress")
        raise RuntimeError(f"unexpected transaction cancellation: {reasons!r}")

    # -- reads -------------------------------------------------------------

    def get(self, task_id: str) -> dict[str, Any]:
        item = self._db.get_item(TableName=self._table, Key=_key(task_id), ConsistentRead=True).get("Item")
        if not model.is_task(item):
            raise errors.task_not_found(task_id)
        return model.public_task(item)

    def list_page(self, cmd: ListTasks) -> dict[str, Any]:
        """Newest first within one status: a Query on the status-created
        index, never a Scan."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": contract.CREATED_INDEX.name,
            "KeyConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":status": {"S": cmd.status}},
            "ScanIndexForward": False,
            "Limit": cmd.limit,
        }
        if cmd.start_key is not None:
            query["ExclusiveStartKey"] = {name: {"S": value} for name, value in cmd.start_key.items()}
        page = self._db.query(**query)
        return {
            "tasks": [model.public_task(item) for item in page.get("Items", [])],
            "next_token": paging.encode(page.get("LastEvaluatedKey")),
        }

    # -- claim -------------------------------------------------------------

    def claim(self, cmd: ClaimTask) -> dict[str, Any]:
        if cmd.task_id is not None:
            return self._claim_by_id(cmd.annotator_id, cmd.task_id)
        began = time.monotonic()
        try:
            return self._claim_next(cmd.annotator_id)
        finally:
            self._spread.took(time.monotonic() - began)

    def _assign(self, annotator: str) -> tuple[str, dict[str, Any]]:
        """The SET clause and values shared by every kind of claim."""
        at = model.now()
        lease = model.timestamp(at + s.LEASE_DURATION)
        update = (
            "SET #status = :assigned, #assignee = :me, #lease_expires_at = :lease, "
            "#queue_key = :queue_key, #updated_at = :now, #version = #version + :one"
        )
        return update, {
            ":assigned": model.ASSIGNED,
            ":me": annotator,
            ":lease": lease,
            ":now": model.timestamp(at),
            ":one": 1,
        }

    def _claim_by_id(self, annotator: str, task_id: str) -> dict[str, Any]:
        """Pending, expired, or already ours (which renews the lease)."""
        update, values = self._assign(annotator)
        values[":queue_key"] = model.timed_queue_key(values[":lease"], task_id)
        values[":pending"] = model.PENDING
        result = self._update(
            task_id,
            update,
            "#status = :pending OR (#status = :assigned AND (#lease_expires_at < :now OR #assignee = :me))",
            values,
        )
        if isinstance(result, Rejected):
            raise refusals.why(task_id, result.current, annotator, "claim") or refusals.changed(task_id)
        return result

    def _claim_next(self, annotator: str) -> dict[str, Any]:
        """Highest priority, oldest pending task, else the lease that expired first; each
        write tries ``claiming.Spread``'s draw, and a lost race reads afresh while the
        call budget allows (unless a claim sharing this instance just did)."""
        update, values = self._assign(annotator)
        width = self._spread.width()
        expected, queue = model.PENDING, _PENDING_QUEUE
        calls = writes = 0
        has_read = False  # this claim read the queue itself (expired-lease fallback included)
        while calls < s.CLAIM_MAX_CALLS:
            with self._spread.reading():  # the read (if any) and the draw from it, as one step
                if not self._spread.holds(expected, width) and calls + 2 <= s.CLAIM_MAX_CALLS:
                    if has_read:
                        width = self._read_again(queue, width, expected)
                        calls += 1
                    else:
                        made, expected, queue = self._read_candidates(width, values[":now"])
                        calls, has_read = calls + made, True
                candidate = self._spread.draw(width, expected)
            if candidate is None:
                break
            condition = "#status = :expected AND #version = :version"
            if expected == model.ASSIGNED:
                condition += " AND #lease_expires_at < :now"
            attempt = dict(values)
            attempt[":expected"] = expected
            attempt[":version"] = candidate["version"]
            attempt[":queue_key"] = model.timed_queue_key(values[":lease"], candidate["id"])
            result = self._update(candidate["id"], update, condition, attempt)
            calls += 1
            writes += 1
            if not isinstance(result, Rejected):
                if writes == 1:
                    self._spread.won_first_time()
                metrics.note(metrics.CLAIM_LOST_RACES, writes - 1)
                return result
            width = self._spread.lost()
        metrics.note(metrics.CLAIM_LOST_RACES, writes)
        raise errors.claim_contention(writes)

    def _read_again(self, queue: tuple[str, dict[str, Any]], width: int, status: str) -> int:
        """After a lost race: a fresh read without the tasks others took meanwhile, as wide
        as the contention just seen; returns the width to draw with."""
        limit = _candidates(width)
        fresh = self._queue(*queue, limit)
        before = self._spread.hold(fresh, width, status)
        return self._spread.observed(claiming.taken(before, fresh, complete=len(fresh) < limit))

    def _read_candidates(self, width: int, now: str) -> tuple[int, str, tuple[str, dict[str, Any]]]:
        """Read the pending queue (else the expired leases) and hold what it returned:
        (calls made, the status expected, the key condition and values read)."""
        limit = _candidates(width)
        candidates = self._queue(*_PENDING_QUEUE, limit)
        metrics.note(metrics.OLDEST_PENDING_AGE, claiming.oldest_age_seconds(candidates, model.now()))
        if candidates:
            self._spread.hold(candidates, width, model.PENDING)
            return 1, model.PENDING, _PENDING_QUEUE
        queue = (_EXPIRED_QUEUE, {":status": model.ASSIGNED, ":now": now})
        candidates = self._queue(*queue, limit)
        if not candidates:
            raise errors.no_task_available()
        self._spread.hold(candidates, width, model.ASSIGNED)
        return 2, model.ASSIGNED, queue

    def _queue(self, key_condition: str, values: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` claim candidates in queue order (id, version, queue_key)."""
        page = self._db.query(
            TableName=self._table,
            IndexName=contract.QUEUE_INDEX.name,
            KeyConditionExpression=key_condition,
            ProjectionExpression="#id, #version, #queue_key",
            ExpressionAttributeNames=_names(key_condition + " #id #version #queue_key"),
            ExpressionAttributeValues=model.to_attribute_values(values),
            ScanIndexForward=True,
            Limit=limit,
        )
        return [model.from_item(item) for item in page.get("Items", [])]

    # -- submit / release --------------------------------------------------

    def submit(self, cmd: SubmitFeedback) -> dict[str, Any]:
        """Completes the task if this annotator holds it and the feedback fits
        the task's kind and number of responses -- all in the write's condition."""
        at = model.timestamp(model.now())
        fb = cmd.feedback
        size_test = "size(#responses) >= :n" if fb.field == "preferred" else "size(#responses) = :n"
        result = self._update(
            cmd.task_id,
            "SET #status = :completed, #feedback = :feedback, #completed_at = :now, #queue_key = :queue_key, "
            "#updated_at = :now, #version = #version + :one REMOVE #lease_expires_at",
            f"#status = :assigned AND #assignee = :me AND #kind = :kind AND {size_test}",
            {
                ":completed": model.COMPLETED,
                ":assigned": model.ASSIGNED,
                ":feedback": fb.stored(),
                ":now": at,
                ":queue_key": model.timed_queue_key(at, cmd.task_id),
                ":one": 1,
                ":me": cmd.annotator_id,
                ":kind": fb.kind,
                ":n": fb.min_responses(),
            },
        )
        if isinstance(result, Rejected):
            refusal = refusals.why(cmd.task_id, result.current, cmd.annotator_id, "submit feedback for")
            raise refusal or refusals.feedback_misfit(cmd, result.current or {})
        return result

    def release(self, cmd: ReleaseTask) -> dict[str, Any]:
        """Back to pending at its original place in the queue (``pending_key``
        was stored at creation because an update cannot compute it)."""
        result = self._update(
            cmd.task_id,
            "SET #status = :pending, #queue_key = #pending_key, #updated_at = :now, #version = #version + :one "
            "REMOVE #assignee, #lease_expires_at",
            "#status = :assigned AND #assignee = :me",
            {
                ":pending": model.PENDING,
                ":assigned": model.ASSIGNED,
                ":now": model.timestamp(model.now()),
                ":one": 1,
                ":me": cmd.annotator_id,
            },
        )
        if isinstance(result, Rejected):
            refusal = refusals.why(cmd.task_id, result.current, cmd.annotator_id, "release")
            raise refusal or refusals.changed(cmd.task_id)
        return result

    # -- the one write primitive -------------------------------------------

    def _update(self, task_id: str, update: str, condition: str, values: dict[str, Any]) -> dict[str, Any] | Rejected:
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=_key(task_id),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(#id) AND ({condition})",
                ExpressionAttributeNames=_names(update + " " + condition + " #id"),
                ExpressionAttributeValues=model.to_attribute_values(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            current = model.from_item(old) if model.is_task(old) else None
            return Rejected(current)
        return model.public_task(response["Attributes"])


def _candidates(width: int) -> int:
    """How many candidates a claim's Query reads for a spread of ``width``."""
    return max(s.CLAIM_MIN_CANDIDATES, width)


def _key(task_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": task_id}}


def _names(expression: str) -> dict[str, str]:
    """Alias every ``#attr`` token: ``status`` is a reserved word, and
    aliasing all names keeps the expressions uniform."""
    return {f"#{name}": name for name in _NAME_TOKEN.findall(expression)}
