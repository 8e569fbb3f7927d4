"""Claiming under contention: 409 rate, DynamoDB calls, items read and ordering, in process.

N claimers (8, 32, 128, 1,000) claim the next task at once, ``--rounds`` times each, from a
queue that holds at least ``--backlog`` pending tasks per claimer throughout, and never fewer
than ``--min-pending``. Each claimer is one container: its own botocore client and
``TaskRepository``, as Lambda runs one request per container (the clients share one botocore
session, so building 1,000 of them takes seconds, not minutes). The table is moto in process
with each DynamoDB operation made atomic by one lock, taken in moto's request handler and in
its backend (moto alone is not thread-safe; the real service is atomic per item), as in
tests/function/test_handler_concurrency.py, and with the emulator's string-comparison mend
(``workspace.patches``, which ``atomic_dynamodb`` applies) so that a Query on a table of
thousands of tasks takes milliseconds.
Calls are counted per claim with botocore ``before-call`` hooks and items read from each
Query's ``Count``; the order in which claims landed is recorded inside the lock, so the rank
of each claimed task in the pending queue at that moment is exact (0 = the head).

    .venv/bin/python -m bench.claim_contention [--claimers 8,32,128,1000] [--rounds 3] [--label after]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from moto import mock_aws

from bench.handler_bench import table_kwargs
from function import model
from function.commands import ClaimTask, CreateTask, NewTask
from function.tasks import TaskRepository
from testkit.mixed_load import atomic_dynamodb

ROOT = Path(__file__).resolve().parents[1]

TABLE = "bench-claims"
REPORT = ROOT / "docs" / "benchmarks-claim.md"
PRIORITIES = (4, 5, 6)


@dataclass
class Outcome:
    status: str  # "ok", or the error code
    calls: int
    round: int
    read: int  # queue candidates the claim's Queries returned
    task_id: str | None = None


@dataclass
class Landed:
    """Successful claim writes in the order DynamoDB applied them (recorded under the lock)."""

    order: list[str] = field(default_factory=list)


@contextlib.contextmanager
def serialized(landed: Landed) -> Iterator[None]:
    """Each moto DynamoDB operation under one lock (``testkit.mixed_load.atomic_dynamodb``);
    claims that land are recorded in the order the backend applied them."""

    def record(operation: str, result: Any) -> None:
        if operation == "update_item":
            item = result.to_json()["Attributes"]
            if item.get("status", {}).get("S") == model.ASSIGNED and "assignee" in item:
                landed.order.append(item["id"]["S"])

    with atomic_dynamodb(on_result=record):
        yield


def _env() -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")


def _scanned(client: Any) -> list[dict[str, Any]]:
    """Every item of the bench table, in DynamoDB's attribute-value form."""
    items: list[dict[str, Any]] = []
    page: dict[str, Any] = {"TableName": TABLE}
    while True:
        answer = client.scan(**page)
        items += answer["Items"]
        if "LastEvaluatedKey" not in answer:
            return items
        page["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0


def _take(queue: list[str], key: str) -> int:
    """Remove ``key`` from the sorted ``queue``; its position there (0 = the head)."""
    at = bisect.bisect_left(queue, key)
    queue.pop(at)
    return at


@dataclass
class Queue:
    """The pending queue before the claims, in queue order: the whole and each shard's."""

    pending: list[str]
    shard_of: dict[str, str]  # task id -> shard (empty before shards existed)
    shards: dict[str, list[str]]

    @classmethod
    def filled(cls, client: Any, total: int, rng: random.Random) -> Queue:
        """Create ``total`` tasks through the handler's own repository, and read them back."""
        creator = TaskRepository(client, TABLE)
        for i in range(total):
            creator.create(CreateTask(NewTask(f"p{i}", ("a", "b"), model.PAIRWISE, rng.choice(PRIORITIES), {}), None))
        stored = [model.from_item(item) for item in _scanned(client)]
        shard_of = {task["id"]: task["queue_shard"] for task in stored if "queue_shard" in task}
        shards: dict[str, list[str]] = {}
        for task in sorted(stored, key=lambda t: str(t["queue_key"])):
            if task["id"] in shard_of:
                shards.setdefault(shard_of[task["id"]], []).append(task["queue_key"])
        return cls(sorted(task["queue_key"] for task in stored), shard_of, shards)

    def ranks(self, landed: list[str], pending_key: dict[str, str]) -> tuple[list[int], list[int]]:
        """Where each claimed task stood when its write landed: in the queue, in its shard."""
        ranks, shard_ranks = [], []
        for task_id in landed:
            ranks.append(_take(self.pending, pending_key[task_id]))
            if task_id in self.shard_of:
                shard_ranks.append(_take(self.shards[self.shard_of[task_id]], pending_key[task_id]))
        return ranks, shard_ranks


def _claim_at_once(claimers: int, rounds: int) -> list[Outcome]:
    """``claimers`` threads, one client and repository each, released together by a barrier."""
    local = threading.local()
    session = botocore.session.get_session()
    repos = []
    for _ in range(claimers):
        client = session.create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"])
        client.meta.events.register("before-call.dynamodb", lambda **_: setattr(local, "calls", local.calls + 1))
        client.meta.events.register(
            "after-call.dynamodb.Query", lambda parsed, **_: setattr(local, "read", local.read + parsed["Count"])
        )
        repos.append(TaskRepository(client, TABLE))
    outcomes: list[Outcome] = []
    guard = threading.Lock()
    barrier = threading.Barrier(claimers)

    def claimer(index: int) -> None:
        barrier.wait()
        for round_ in range(rounds):
            local.calls = local.read = 0
            try:
                task = repos[index].claim(ClaimTask(f"annotator-{index}", None))
                outcome = Outcome("ok", local.calls, round_, local.read, task["id"])
            except Exception as exc:  # an ApiError: its code is the outcome
                outcome = Outcome(getattr(exc, "code", type(exc).__name__), local.calls, round_, local.read)
            with guard:
                outcomes.append(outcome)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def run(claimers: int, rounds: int, backlog: int, seed: int, min_pending: int = 0) -> dict[str, Any]:
    """One row: ``claimers`` claiming ``rounds`` times each at once; returns the measures."""
    _env()
    landed = Landed()
    total = max(claimers * (backlog + rounds), min_pending)
    with mock_aws():
        setup = boto3.client("dynamodb")
        setup.create_table(**table_kwargs(TABLE))
        queue = Queue.filled(setup, total, random.Random(seed))
        began = time.perf_counter()
        with serialized(landed):
            outcomes = _claim_at_once(claimers, rounds)
        wall = time.perf_counter() - began
        assigned = {
            task["id"]: task for task in map(model.from_item, _scanned(setup)) if task.get("status") == model.ASSIGNED
        }
    won = [o.task_id for o in outcomes if o.status == "ok"]
    double = len(won) - len(set(won)) + sum(1 for t in won if t not in assigned)
    ranks, shard_ranks = queue.ranks(landed.order, {i: task["pending_key"] for i, task in assigned.items()})
    calls = [o.calls for o in outcomes]
    reads = [o.read for o in outcomes]
    codes = Counter(o.status for o in outcomes)
    return {
        "claimers": claimers,
        "claims": len(outcomes),
        "pending": total,
        "ok": codes["ok"],
        "contention": codes["claim_contention"],
        "other": {code: n for code, n in codes.items() if code not in ("ok", "claim_contention")},
        "calls_mean": statistics.fmean(calls),
        "calls_p95": _percentile(calls, 0.95),
        "calls_max": max(calls),
        "read_mean": statistics.fmean(reads),
        "read_p95": _percentile(reads, 0.95),
        "read_max": max(reads),
        "rank_p50": _percentile(ranks, 0.5),
        "rank_p95": _percentile(ranks, 0.95),
        "rank_max": max(ranks, default=0),
        "shard_rank_max": max(shard_ranks, default=None),
        "double": double,
        "wall": wall,
    }


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| claimers | pending at start | claims | `409 claim_contention` | other errors | calls/claim mean | p95 | max "
        "| items read mean | p95 | max | rank p50 | p95 | max | in its shard, max | assigned twice | seconds |",
        "|" + " ---: |" * 4 + " --- |" + " ---: |" * 12,
    ]
    for r in rows:
        other = ", ".join(f"{code} x {n}" for code, n in sorted(r["other"].items())) or "-"
        lines.append(
            f"| {r['claimers']} | {r['pending']} | {r['claims']} | {r['contention']} "
            f"({100 * r['contention'] / r['claims']:.1f} %) | {other} | {r['calls_mean']:.2f} | {r['calls_p95']} "
            f"| {r['calls_max']} | {r['read_mean']:.1f} | {r['read_p95']} | {r['read_max']} | {r['rank_p50']} "
            f"| {r['rank_p95']} | {r['rank_max']} | {'-' if r['shard_rank_max'] is None else r['shard_rank_max']} "
            f"| {r['double']} | {r['wall']:.0f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claimers", default="8,32,128,1000", help="comma-separated claimer counts (%(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="claims per claimer (default %(default)s)")
    parser.add_argument("--backlog", type=int, default=4, help="pending tasks per claimer left at the end")
    parser.add_argument("--min-pending", type=int, default=0, help="pending tasks at the start, at least")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--label", default="", help="heading of this run's table in the report")
    parser.add_argument("--out", type=Path, default=None, help=f"append the table to this file (e.g. {REPORT})")
    args = parser.parse_args(argv)
    try:
        counts = [int(c) for c in args.claimers.split(",")]
    except ValueError:
        parser.error(f"--claimers {args.claimers!r} is not a comma-separated list of integers")
    if any(c < 1 for c in counts) or args.rounds < 1 or args.backlog < 1 or args.min_pending < 0:
        parser.error("--claimers, --rounds and --backlog must be at least 1, --min-pending at least 0")
    rows = []
    for n in counts:
        row = run(n, args.rounds, args.backlog, args.seed, args.min_pending)
        rows.append(row)
        print(
            f"claimers={n:<4} 409={row['contention']}/{row['claims']} calls mean={row['calls_mean']:.2f} "
            f"p95={row['calls_p95']} read mean={row['read_mean']:.1f} p95={row['read_p95']} "
            f"rank p95={row['rank_p95']} twice={row['double']} {row['wall']:.1f} s",
            flush=True,
        )
    lines = [
        f"### {args.label or 'run'} ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
        f"{args.rounds} claims per claimer)",
        "",
        *table(rows),
        "",
    ]
    print("\n".join(lines))
    if args.out is not None:
        with args.out.open("a") as report:
            report.write("\n".join(lines) + "\n")
    return 1 if any(r["double"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
