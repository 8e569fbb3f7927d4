"""Claiming the next task under contention: which task, how many calls, which ordering bound.

The contention memory (``claiming.Spread``) is checked with a hand-driven clock; the lost-race
path runs the real repository against moto with a rival claim injected right before the
claimer's write; the ordering bound is checked with real threads on a moto whose DynamoDB
operations are made atomic (as the real service is per item; see
test_handler_concurrency.py), recording the order in which claims landed.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import DynamoDBBackend

from function import claiming, settings
from function.errors import ApiError
from function.tasks import TaskRepository
from function.validation import ClaimTask
from tests.function.support import TABLE, Api, Aws


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _candidates(count: int) -> list[dict[str, Any]]:
    return [{"id": f"t{i}", "version": 1, "queue_key": f"5#{i:04d}"} for i in range(count)]


def test_a_container_that_has_not_lost_a_race_takes_the_head() -> None:
    spread = claiming.Spread(clock=Clock())
    assert spread.width() == 1
    spread.hold(_candidates(3), 1, "pending")
    assert not spread.holds("pending", 1)  # without contention every claim reads afresh
    assert spread.draw(1, "pending") == _candidates(1)[0]
    assert spread.draw(1, "pending") is None  # at width 1 only the head is held: nothing else to try


def test_lost_races_widen_the_spread_and_quiet_narrows_it_back_to_the_head() -> None:
    clock = Clock()
    spread = claiming.Spread(clock=clock)
    assert spread.lost() == settings.CLAIM_SPREAD_AFTER_LOSS
    assert spread.lost() == min(settings.CLAIM_SPREAD_MAX, 2 * settings.CLAIM_SPREAD_AFTER_LOSS)
    spread.observed(taken=10_000)
    assert spread.width() == settings.CLAIM_SPREAD_MAX  # never wider than the documented bound
    spread.won_first_time()
    assert spread.width() == settings.CLAIM_SPREAD_MAX - settings.CLAIM_SPREAD_MAX // 16
    clock.now += settings.CLAIM_CONTENTION_MEMORY_SECONDS + 0.1
    assert spread.width() == 1


def test_slow_claims_are_remembered_longer() -> None:
    clock = Clock()
    spread = claiming.Spread(clock=clock)
    spread.took(2.0)  # e.g. an overloaded emulator
    spread.lost()
    clock.now += settings.CLAIM_CONTENTION_MEMORY_SECONDS + 1
    assert spread.width() > 1
    clock.now += settings.CLAIM_CONTENTION_MEMORY_CLAIMS * 2.0
    assert spread.width() == 1


def test_draws_stay_inside_the_window_and_never_repeat() -> None:
    spread = claiming.Spread(clock=Clock(), rng=random.Random(1))
    window = 10
    spread.hold(_candidates(100), window, "pending")
    drawn = [spread.draw(window, "pending") for _ in range(window)]
    ids = [c["id"] for c in drawn if c is not None]
    assert len(set(ids)) == window and {int(i[1:]) for i in ids} == set(range(window))
    assert spread.draw(window, "pending") is None


def test_a_held_read_serves_later_claims_only_while_fresh_wide_enough_and_pending() -> None:
    clock = Clock()
    spread = claiming.Spread(clock=clock)
    width = spread.lost()
    clock.now += 0.1
    spread.hold(_candidates(width), width, "pending")
    assert spread.holds("pending", width)
    assert not spread.holds("assigned", width)  # a read of the pending queue says nothing of expired leases
    assert spread.draw(width, "assigned") is None
    clock.now += 0.1
    assert not spread.holds("pending", spread.lost())  # wider than the read, and older than a lost write
    clock.now += 0.1
    spread.hold(_candidates(4 * width), 2 * width, "pending")
    assert spread.holds("pending", 2 * width)
    clock.now += settings.CLAIM_HELD_SECONDS + 0.1
    assert not spread.holds("pending", 2 * width)  # too old


def test_at_the_widest_spread_a_lost_write_still_makes_the_hold_stale() -> None:
    clock = Clock()
    spread = claiming.Spread(clock=clock)
    spread.lost()
    widest = spread.observed(taken=10_000)
    assert widest == spread.width() == settings.CLAIM_SPREAD_MAX
    clock.now += 0.1
    spread.hold(_candidates(widest), widest, "pending")
    assert spread.holds("pending", widest)
    clock.now += 0.1
    assert spread.lost() == widest  # no wider than the maximum ...
    assert not spread.holds("pending", widest)  # ... yet the claim must read afresh


def test_a_lost_race_reads_the_queue_again_and_takes_another_task(api: Api, aws: Aws) -> None:
    ids = [api.create(prompt=f"p{i}")["id"] for i in range(5)]
    rival = TaskRepository(boto3.client("dynamodb"), TABLE)
    client = boto3.client("dynamodb")
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    rivals: list[str] = []

    def rival_claims_first(params: dict[str, Any], **_: Any) -> None:
        if not rivals:  # just before our first write, someone else takes that task
            rivals.append(rival.claim(ClaimTask("rival", params["Key"]["id"]["S"]))["id"])

    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", rival_claims_first)
    spread = claiming.Spread()
    task = TaskRepository(client, TABLE, spread=spread).claim(ClaimTask("me", None))
    assert calls == ["Query", "UpdateItem", "Query", "UpdateItem"]
    assert task["assignee"] == "me" and task["id"] in ids[1:]
    assert rivals == [ids[0]]  # the head went to the rival
    assert spread.width() >= settings.CLAIM_SPREAD_AFTER_LOSS
    # Still under contention, the next claim draws from the read it holds: one write, no Query.
    calls.clear()
    second = TaskRepository(client, TABLE, spread=spread).claim(ClaimTask("me-too", None))
    assert calls == ["UpdateItem"]
    assert second["id"] in ids[1:] and second["id"] != task["id"]


def test_a_claim_from_a_stale_hold_reads_the_queue_and_answers_404_when_nothing_is_left(api: Api) -> None:
    """The held candidate was taken meanwhile and nothing else is pending or expired: the
    claim's own read falls back to expired leases and answers 404, not 409."""
    only = api.create(prompt="only")
    assert api.claim("rival", only["id"]).status == 200
    client = boto3.client("dynamodb")
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    spread = claiming.Spread()
    width = spread.lost()
    spread.hold([{"id": only["id"], "version": 1, "queue_key": "stale"}], width, "pending")
    with pytest.raises(ApiError) as refused:
        TaskRepository(client, TABLE, spread=spread).claim(ClaimTask("me", None))
    assert refused.value.code == "no_task_available"
    assert calls == ["UpdateItem", "Query", "Query"]  # the held write, pending, expired leases


@pytest.fixture
def landed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each moto DynamoDB operation made atomic; ids of successful claims in landing order."""
    order: list[str] = []
    lock = threading.RLock()
    for name in ("get_item", "put_item", "update_item", "query", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            with lock:
                result = _original(self, *args, **kwargs)
                if _name == "update_item" and result.to_json()["Attributes"].get("assignee"):
                    key = kwargs["key"] if "key" in kwargs else args[1]
                    order.append(key["id"]["S"])
                return result

        monkeypatch.setattr(DynamoDBBackend, name, atomic)
    yield order


def test_under_contention_a_claim_gets_one_of_the_first_spread_max_pending_tasks(
    api: Api, aws: Aws, landed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented bound, with a small maximum so that it binds: a claimed task is among
    the first CLAIM_SPREAD_MAX pending tasks when its claim read the queue, hence also when
    its write landed (no task is created meanwhile)."""
    monkeypatch.setattr(settings, "CLAIM_SPREAD_MAX", 6)
    monkeypatch.setattr(settings, "CLAIM_SPREAD_AFTER_LOSS", 4)
    tasks = [api.create(prompt=f"p{i}", priority=i % 3) for i in range(60)]
    order = sorted(tasks, key=lambda t: (-t["priority"], t["created_at"]))
    pending = [t["id"] for t in order]
    claimers = 12
    repositories = [TaskRepository(boto3.client("dynamodb"), TABLE) for _ in range(claimers)]
    barrier = threading.Barrier(claimers)

    def claim_three(index: int) -> list[str]:
        barrier.wait()
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(repositories[index].claim(ClaimTask(f"ann-{index}", None))["id"])
            except ApiError as exc:
                outcomes.append(exc.code)
        return outcomes

    with ThreadPoolExecutor(max_workers=claimers) as pool:
        outcomes = [o for result in pool.map(claim_three, range(claimers)) for o in result]
    won = [o for o in outcomes if o in pending]
    assert set(outcomes) - set(won) <= {"claim_contention"}
    assert sorted(won) == sorted(landed) and len(set(won)) == len(won)
    ranks = []
    for task_id in landed:
        ranks.append(pending.index(task_id))
        pending.remove(task_id)
    assert max(ranks) < settings.CLAIM_SPREAD_MAX, ranks
    assert max(ranks) > 0  # contention did spread the claims


def test_claims_sharing_an_instance_read_once_and_never_draw_the_same_task(
    api: Api, aws: Aws, landed: list[str]
) -> None:
    """The local server runs many claims on one instance: once it has seen contention,
    they draw distinct tasks from one shared read instead of each reading the queue."""
    ids = {api.create(prompt=f"p{i}")["id"] for i in range(100)}
    client = boto3.client("dynamodb")
    queries: list[str] = []
    client.meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append("Query"))
    spread = claiming.Spread()
    spread.lost()  # contention seen: claims draw among the first CLAIM_SPREAD_AFTER_LOSS
    shared = TaskRepository(client, TABLE, spread=spread)
    claimers, rounds = 16, 4
    barrier = threading.Barrier(claimers)

    def claim_all(index: int) -> list[str]:
        barrier.wait()
        return [shared.claim(ClaimTask(f"ann-{index}", None))["id"] for _ in range(rounds)]

    with ThreadPoolExecutor(max_workers=claimers) as pool:
        won = [task_id for result in pool.map(claim_all, range(claimers)) for task_id in result]
    assert len(won) == claimers * rounds == len(set(won)) and set(won) <= ids  # no 409, none twice
    assert sorted(won) == sorted(landed)
    assert queries == ["Query"]  # one read (all 100 pending tasks) served all 64 claims
