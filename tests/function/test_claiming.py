"""Claiming the next task: which task, how many calls, which ordering bound.

The repository runs against moto; calls are recorded with botocore hooks, rivals are other
repositories (other containers) that take a task right before the claimer's write. Where a
bound must bind, the queue is cut into a few shards read a few candidates at a time; the
last test is the issue's storm, 1,000 claimers at once with moto's DynamoDB operations
serialized (bench/claim_contention.py, which docs/benchmarks-claim.md reports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from bench import claim_contention
from function import contract, model, settings
from function.errors import ApiError
from function.tasks import TaskRepository
from function.validation import ClaimTask
from tests.function.support import TABLE, Api, Aws


class Recorded:
    """A client of its own (another container) whose DynamoDB calls are recorded."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb")
        self.calls: list[str] = []
        self.shards: list[str] = []  # the shard each Query on the shard index read
        self.client.meta.events.register("before-parameter-build.dynamodb", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append(model.name)
        if params.get("IndexName") == contract.SHARD_INDEX.name:
            self.shards.append(params["ExpressionAttributeValues"][":shard"]["S"])

    def claim(self, annotator: str = "me") -> dict[str, Any]:
        return TaskRepository(self.client, TABLE).claim(ClaimTask(annotator, None))

    def before_each_write(self, action: Callable[[str], None]) -> None:
        """Run ``action(task_id)`` right before each UpdateItem this client sends."""
        self.client.meta.events.register(
            "before-parameter-build.dynamodb.UpdateItem", lambda params, **_: action(params["Key"]["id"]["S"])
        )


@pytest.fixture
def few_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """4 shards read 4 candidates at a time (created tasks follow), so the bounds bind."""
    monkeypatch.setattr(model, "QUEUE_SHARDS", 4)
    monkeypatch.setattr(settings, "CLAIM_CANDIDATES", 4)


def _rival_takes(task_id: str) -> None:
    TaskRepository(boto3.client("dynamodb"), TABLE).claim(ClaimTask("rival", task_id))


def test_a_claim_takes_a_task_of_the_best_priority_among_the_first_candidates_of_one_shard(
    api: Api, few_shards: None
) -> None:
    tasks = [api.create(prompt=f"p{i}", priority=i % 3) for i in range(80)]
    queue_key = {t["id"]: model.pending_queue_key(t["priority"], t["created_at"], t["id"]) for t in tasks}
    pending = set(queue_key)
    heads = 0
    for _ in range(16):
        claimer = Recorded()
        task = claimer.claim()
        assert claimer.calls == ["Query", "UpdateItem"]  # every shard still holds tasks
        (shard,) = claimer.shards
        assert model.queue_shard(task["id"]) == shard
        in_shard = sorted((t for t in pending if model.queue_shard(t) == shard), key=queue_key.__getitem__)
        read = in_shard[: settings.CLAIM_CANDIDATES]
        assert task["id"] in read  # one of the first 4 of its shard ...
        best = min(model.priority_of(queue_key[t]) for t in read)
        assert model.priority_of(queue_key[task["id"]]) == best  # ... of the best priority among them
        heads += task["id"] == in_shard[0]
        pending.remove(task["id"])
    assert heads < 16  # the first write is spread, not always the shard's head


def test_an_empty_shard_sends_the_claim_to_the_head_of_the_queue(api: Api) -> None:
    only = api.create(prompt="only")
    claimer = Recorded()
    assert claimer.claim()["id"] == only["id"]
    if claimer.shards == [model.queue_shard(only["id"])]:  # 1 chance in 128: its own shard
        assert claimer.calls == ["Query", "UpdateItem"]
    else:
        assert claimer.calls == ["Query", "Query", "UpdateItem"]  # empty shard, the queue's head


def test_nothing_pending_costs_three_queries_and_an_expired_lease_is_taken(api: Api, aws: Aws) -> None:
    claimer = Recorded()
    with pytest.raises(ApiError) as refused:
        claimer.claim()
    assert refused.value.code == "no_task_available"
    assert claimer.calls == ["Query", "Query", "Query"]  # a shard, the queue's head, expired leases
    task = api.create()
    assert api.claim("first", task["id"]).status == 200
    aws.expire_lease(task["id"])
    claimer = Recorded()
    assert claimer.claim("second")["id"] == task["id"]
    assert claimer.calls == ["Query", "Query", "Query", "UpdateItem"]


def test_a_lost_race_takes_another_candidate_of_the_same_read(api: Api, few_shards: None) -> None:
    ids = {api.create(prompt=f"p{i}")["id"] for i in range(40)}
    claimer = Recorded()
    taken: list[str] = []

    def rival_first_time(task_id: str) -> None:
        if not taken:
            taken.append(task_id)
            _rival_takes(task_id)

    claimer.before_each_write(rival_first_time)
    task = claimer.claim()
    assert claimer.calls == ["Query", "UpdateItem", "UpdateItem"]
    assert task["id"] in ids - set(taken) and model.queue_shard(task["id"]) == claimer.shards[0]


def test_losing_every_write_is_409_after_five_calls(api: Api, few_shards: None) -> None:
    for i in range(40):
        api.create(prompt=f"p{i}")
    claimer = Recorded()
    claimer.before_each_write(_rival_takes)
    with pytest.raises(ApiError) as refused:
        claimer.claim()
    assert (refused.value.status, refused.value.code) == (409, "claim_contention")
    assert claimer.calls == ["Query", "UpdateItem", "UpdateItem", "Query", "UpdateItem"]
    assert len(set(claimer.shards)) == 2  # the second read went to another shard


def test_only_pending_tasks_are_in_a_shard(api: Api, aws: Aws) -> None:
    def shard(task_id: str) -> str | None:
        item = aws.raw_item(task_id) or {}
        return item["queue_shard"]["S"] if "queue_shard" in item else None

    task = api.create()
    assert shard(task["id"]) == model.queue_shard(task["id"])
    assert api.claim("ann", task["id"]).status == 200
    assert shard(task["id"]) is None
    assert api.call("release_task", task_id=task["id"], annotator_id="ann").status == 200
    assert shard(task["id"]) == model.queue_shard(task["id"])  # back in its shard, at its place
    assert api.claim("ann").task["id"] == task["id"]
    assert shard(task["id"]) is None
    done = api.call("submit_feedback", task_id=task["id"], annotator_id="ann", feedback={"preferred": 0})
    assert done.status == 200 and shard(task["id"]) is None


@pytest.mark.slow
def test_a_thousand_claimers_at_once_stay_within_the_bounds() -> None:
    """The issue's storm: 1,000 claimers at once on a deep queue, each operation atomic."""
    row = claim_contention.run(1000, rounds=1, backlog=3, seed=21, min_pending=4096)
    assert row["claims"] == 1000 and row["other"] == {}
    assert row["contention"] <= 10  # at most 1 % answered 409
    assert row["double"] == 0
    assert row["calls_mean"] <= 3 and row["calls_p95"] <= 5
    assert row["read_mean"] <= 100
    assert row["shard_rank_max"] < settings.CLAIM_CANDIDATES  # the ordering bound
