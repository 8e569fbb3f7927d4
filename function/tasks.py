"""Task persistence: every state change is one conditional DynamoDB write. Its condition
decides races, and the item returned when it fails (``ALL_OLD``) tells the caller why (404 or
which 409) and a resent write its own first attempt, at no extra read (docs/api.md, "Decisions").
"""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Final

from function import claiming, contract, errors, metrics, model, paging, refusals
from function import settings as s
from function.commands import ClaimTask, CreateTask, ListTasks, ReleaseTask, SubmitFeedback

_NAME_TOKEN: Final = re.compile(r"#(\w+)")


@dataclass(frozen=True)
class Rejected:
    """A conditional write that lost: ``current`` is the item as it is now
    (plain values), or None when there is no such task."""

    current: dict[str, Any] | None


class TaskRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

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
            "queue_shard": model.queue_shard(task_id),
        }
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": model.to_attribute_values(values),
            "ConditionExpression": "attribute_not_exists(#id)",
            "ExpressionAttributeNames": {"#id": "id"},
        }
        if cmd.client_token is None:
            # The id is new to this request: only an earlier attempt of this PutItem, resent
            # by botocore after its answer was lost, can have stored a task under it.
            with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
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
            return self._replay(exc.response.get("CancellationReasons", []), new.fingerprint(), put["Item"])
        return 201, model.public_task(put["Item"])

    def _replay(
        self, reasons: list[dict[str, Any]], fingerprint: str, item: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Why a create with a token was cancelled: the token names ``item``, this request's new
        task (an earlier attempt of this transaction, resent by botocore after its answer was
        lost, was applied: 201), another task (a replay: 200, or 409 for another task's token)."""
        token_reason = reasons[1] if len(reasons) > 1 else {}
        if token_reason.get("Code") == "ConditionalCheckFailed" and "Item" in token_reason:
            existing = model.from_item(token_reason["Item"])
            if existing["task_id"] == item["id"]["S"]:
                return 201, model.public_task(item)
            if existing["fingerprint"] != fingerprint:
                raise errors.idempotency_conflict()
            return 200, self.get(existing["task_id"])
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
        return self._claim_next(cmd.annotator_id)

    def _assign(self, annotator: str) -> tuple[str, dict[str, Any]]:
        """The update and values shared by every kind of claim (the task leaves the shards)."""
        at = model.now()
        lease = model.timestamp(at + s.LEASE_DURATION)
        update = (
            "#status = :assigned, #assignee = :me, #lease_expires_at = :lease, "
            "#queue_key = :queue_key, #updated_at = :now, #version = #version + :one REMOVE #queue_shard"
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
        """A task from a random shard of the queue (else its head, else an expired lease),
        within ``CLAIM_MAX_CALLS`` DynamoDB calls; the rules are ``claiming``'s."""
        update, values = self._assign(annotator)
        shards = claiming.Shards()
        read: claiming.Read | None = None
        calls = writes = 0
        while calls < s.CLAIM_MAX_CALLS:
            if read is None or (read.stale() and calls + 2 <= s.CLAIM_MAX_CALLS):
                read, made = self._read(read, shards, values[":now"], s.CLAIM_MAX_CALLS - calls - 1)
                calls += made
            if not read.candidates:
                break
            candidate = read.pick()
            expired = read.source == claiming.EXPIRED
            condition = "#status = :expected" + (" AND #lease_expires_at < :now" if expired else "")
            attempt = dict(values, **{":expected": model.ASSIGNED if expired else model.PENDING})
            attempt[":queue_key"] = model.timed_queue_key(values[":lease"], candidate["id"])
            result = self._update(candidate["id"], update, condition, attempt)
            calls += 1
            writes += 1
            if not isinstance(result, Rejected):
                metrics.note(metrics.CLAIM_LOST_RACES, writes - 1)
                return result
            read.lost += 1
        metrics.note(metrics.CLAIM_LOST_RACES, writes)
        raise errors.claim_contention(writes)

    def _read(
        self, previous: claiming.Read | None, shards: claiming.Shards, now: str, budget: int
    ) -> tuple[claiming.Read, int]:
        """Candidates from the source ``previous`` came from (a first read: a shard), falling
        back along ``claiming.SOURCES`` while a source is empty and ``budget`` calls remain;
        returns them and the calls made. Nothing claimable anywhere: 404."""
        sources = claiming.SOURCES[claiming.SOURCES.index(previous.source if previous else claiming.SHARD) :]
        for made, source in enumerate(sources):
            if made == budget:
                return claiming.Read(source, []), made
            candidates = self._queue(source, shards, now)
            if previous is None and source != claiming.EXPIRED and (candidates or source == claiming.HEAD):
                metrics.note(contract.OLDEST_PENDING_METRIC, claiming.oldest_age_seconds(candidates, model.now()))
            if candidates:
                return claiming.Read(source, candidates), made + 1
        raise errors.no_task_available()

    def _queue(self, source: str, shards: claiming.Shards, now: str) -> list[dict[str, Any]]:
        """The first ``CLAIM_CANDIDATES`` candidates of ``source`` in queue order (id, queue_key)."""
        if source == claiming.SHARD:
            index, key, values = contract.SHARD_INDEX, "#queue_shard = :shard", {":shard": shards.next()}
        elif source == claiming.HEAD:
            index, key, values = contract.QUEUE_INDEX, "#status = :status", {":status": model.PENDING}
        else:
            index, key = contract.QUEUE_INDEX, "#status = :status AND #queue_key < :now"
            values = {":status": model.ASSIGNED, ":now": now}
        page = self._db.query(
            TableName=self._table,
            IndexName=index.name,
            KeyConditionExpression=key,
            ProjectionExpression="#id, #queue_key",
            ExpressionAttributeNames=_names(key + " #id #queue_key"),
            ExpressionAttributeValues=model.to_attribute_values(values),
            ScanIndexForward=True,
            Limit=s.CLAIM_CANDIDATES,
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
            "#status = :completed, #feedback = :feedback, #completed_at = :now, #queue_key = :queue_key, "
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
        was stored at creation because an update cannot compute it) and in its shard."""
        result = self._update(
            cmd.task_id,
            "#status = :pending, #queue_key = #pending_key, #queue_shard = :shard, #updated_at = :now, "
            "#version = #version + :one REMOVE #assignee, #lease_expires_at",
            "#status = :assigned AND #assignee = :me",
            {
                ":pending": model.PENDING,
                ":assigned": model.ASSIGNED,
                ":shard": model.queue_shard(cmd.task_id),
                ":now": model.timestamp(model.now()),
                ":one": 1,
                ":me": cmd.annotator_id,
            },
        )
        if isinstance(result, Rejected):
            raise refusals.why(cmd.task_id, result.current, cmd.annotator_id, "release") or refusals.changed(
                cmd.task_id
            )
        return result

    # -- tasks stored before the shards ------------------------------------

    def backfill_shards(self) -> tuple[int, int]:
        """Give every pending task without one its ``queue_shard`` (tasks stored before the
        shards existed); returns (given, left alone: already in a shard or claimed since).
        Safe to repeat, and to run while the API serves: each write is conditional."""
        given = left = 0
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=contract.QUEUE_INDEX.name,
            KeyConditionExpression="#status = :status",
            ProjectionExpression="#id",
            ExpressionAttributeNames={"#status": "status", "#id": "id"},
            ExpressionAttributeValues={":status": {"S": model.PENDING}},
        )
        for page in pages:
            for item in page.get("Items", []):
                task_id = item["id"]["S"]
                result = self._update(
                    task_id,
                    "#queue_shard = :shard",
                    "#status = :pending AND attribute_not_exists(#queue_shard)",
                    {":shard": model.queue_shard(task_id), ":pending": model.PENDING},
                )
                given, left = (given, left + 1) if isinstance(result, Rejected) else (given + 1, left)
        return given, left

    # -- the one write primitive -------------------------------------------

    def _update(
        self, task_id: str, assignments: str, condition: str, values: dict[str, Any]
    ) -> dict[str, Any] | Rejected:
        """``SET assignments`` (a REMOVE clause may follow them) on an existing task if
        ``condition`` holds: the task as written, or Rejected with the task as it is.

        The write stores a token new to it (``write_id``, the previous one moving to
        ``prior_write_id``), so botocore's resend of a write that was applied fails on its own
        token and is answered as the success it was (docs/api.md, "Resent writes")."""
        write_id = secrets.token_hex(8)  # 64 random bits: unique among one task's writes
        last, prior = f"#{model.WRITE_ID}", f"#{model.PRIOR_WRITE_ID}"
        update = f"SET {prior} = if_not_exists({last}, :write_id), {last} = :write_id, {assignments}"
        guarded = f"attribute_exists(#id) AND NOT ({last} = :write_id OR {prior} = :write_id) AND ({condition})"
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=_key(task_id),
                UpdateExpression=update,
                ConditionExpression=guarded,
                ExpressionAttributeNames=_names(update + " " + guarded),
                ExpressionAttributeValues=model.to_attribute_values({**values, ":write_id": write_id}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            if old is not None and model.written_by(old, write_id):
                return model.public_task(old)
            return Rejected(model.from_item(old) if model.is_task(old) else None)
        return model.public_task(response["Attributes"])


def _key(task_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": task_id}}


def _names(expression: str) -> dict[str, str]:
    """Alias every ``#attr`` token: ``status`` is a reserved word, and
    aliasing all names keeps the expressions uniform."""
    return {f"#{name}": name for name in _NAME_TOKEN.findall(expression)}
