"""Claiming under contention: 409 rate, DynamoDB calls per claim and ordering, in process.

N claimers (8, 32, 128) claim the next task at once, ``--rounds`` times each, from a queue
that holds at least ``--backlog`` pending tasks per claimer throughout. Each claimer is
one container: its own boto3 client and ``TaskRepository``, as Lambda runs one request
per container. The table is moto in process with each DynamoDB operation made atomic by
one lock (moto alone is not thread-safe; the real service is atomic per item), as in
tests/function/test_handler_concurrency.py. Calls are counted per claim with botocore
``before-call`` hooks; the order in which claims landed is recorded inside the lock, so
the rank of each claimed task in the pending queue at that moment is exact.

    .venv/bin/python -m bench.claim_contention [--claimers 8,32,128] [--rounds 3] [--label after]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from bench.handler_bench import table_kwargs
from function import model
from function.commands import ClaimTask, CreateTask, NewTask
from function.tasks import TaskRepository

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


def _install_lock(landed: Landed) -> None:
    lock = threading.RLock()
    for name in ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "query"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            with lock:
                result = _original(self, *args, **kwargs)
                if _name == "update_item":
                    item = result.to_json()["Attributes"]
                    key = kwargs.get("key") or args[1]
                    if item.get("status", {}).get("S") == "assigned" and "assignee" in item:
                        landed.order.append(key["id"]["S"])
                return result

        setattr(DynamoDBBackend, name, atomic)


def _env() -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")


def _scanned(client: Any) -> list[dict[str, Any]]:
    """Every item of the bench table, in DynamoDB's attribute-value form."""
    items: list[dict[str, Any]] = client.scan(TableName=TABLE)["Items"]
    return items


def run(claimers: int, rounds: int, backlog: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    landed = Landed()
    with mock_aws():
        setup = boto3.client("dynamodb")
        setup.create_table(**table_kwargs(TABLE))
        creator = TaskRepository(setup, TABLE)
        for i in range(claimers * (backlog + rounds)):
            task = NewTask(f"p{i}", ("a", "b"), model.PAIRWISE, rng.choice(PRIORITIES), {})
            creator.create(CreateTask(task, None))
        pending = sorted(
            model.from_item(item)["queue_key"]
            for item in _scanned(setup)
            if item.get("status", {}).get("S") == model.PENDING
        )
        local = threading.local()
        repos = []
        for _ in range(claimers):
            client = boto3.session.Session().client("dynamodb")
            client.meta.events.register("before-call.dynamodb", lambda **_: setattr(local, "calls", local.calls + 1))
            client.meta.events.register(
                "after-call.dynamodb.Query", lambda parsed, **_: setattr(local, "read", local.read + parsed["Count"])
            )
            repos.append(TaskRepository(client, TABLE))
        _install_lock(landed)
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

        began = time.perf_counter()
        threads = [threading.Thread(target=claimer, args=(i,)) for i in range(claimers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        assigned = [
            model.from_item(item) for item in _scanned(setup) if item.get("status", {}).get("S") == model.ASSIGNED
        ]
    won = [o.task_id for o in outcomes if o.status == "ok"]
    by_id = {task["id"]: task for task in assigned}
    double = len(won) - len(set(won)) + sum(1 for t in won if t not in by_id)
    key_of = {task["id"]: task["pending_key"] for task in assigned}
    ranks = []
    for task_id in landed.order:
        ranks.append(pending.index(key_of[task_id]))
        pending.remove(key_of[task_id])
    calls = [o.calls for o in outcomes]
    codes = Counter(o.status for o in outcomes)
    per_round = [
        (
            sum(1 for o in outcomes if o.round == r and o.status == "claim_contention"),
            statistics.fmean(o.calls for o in outcomes if o.round == r),
        )
        for r in range(rounds)
    ]
    return {
        "per_round": per_round,
        "claimers": claimers,
        "claims": len(outcomes),
        "pending": claimers * (backlog + rounds),
        "ok": codes["ok"],
        "contention": codes["claim_contention"],
        "other": {code: n for code, n in codes.items() if code not in ("ok", "claim_contention")},
        "calls_mean": statistics.fmean(calls),
        "calls_p95": sorted(calls)[min(len(calls) - 1, round(0.95 * (len(calls) - 1)))],
        "calls_max": max(calls),
        "read_mean": statistics.fmean(o.read for o in outcomes),
        "read_max": max(o.read for o in outcomes),
        "rank_p50": statistics.median(ranks) if ranks else 0,
        "rank_p95": sorted(ranks)[min(len(ranks) - 1, round(0.95 * (len(ranks) - 1)))] if ranks else 0,
        "rank_max": max(ranks, default=0),
        "double": double,
        "wall": wall,
    }


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| claimers | pending at start | claims | `409 claim_contention` | other errors | calls/claim mean | p95 | max "
        "| candidates read mean | max | rank p50 | p95 | max | assigned twice |",
        "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        other = ", ".join(f"{code} x {n}" for code, n in sorted(r["other"].items())) or "-"
        lines.append(
            f"| {r['claimers']} | {r['pending']} | {r['claims']} | {r['contention']} "
            f"({100 * r['contention'] / r['claims']:.1f} %) | {other} | {r['calls_mean']:.2f} | {r['calls_p95']} "
            f"| {r['calls_max']} | {r['read_mean']:.0f} | {r['read_max']} | {r['rank_p50']:.0f} | {r['rank_p95']} "
            f"| {r['rank_max']} | {r['double']} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claimers", default="8,32,128", help="comma-separated claimer counts (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="claims per claimer (default %(default)s)")
    parser.add_argument("--backlog", type=int, default=4, help="pending tasks per claimer left at the end")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--label", default="", help="heading of this run's table in the report")
    parser.add_argument("--out", type=Path, default=None, help=f"append the table to this file (e.g. {REPORT})")
    args = parser.parse_args(argv)
    try:
        counts = [int(c) for c in args.claimers.split(",")]
    except ValueError:
        parser.error(f"--claimers {args.claimers!r} is not a comma-separated list of integers")
    if any(c < 1 for c in counts) or args.rounds < 1 or args.backlog < 1:
        parser.error("--claimers, --rounds and --backlog must be at least 1")
    _env()
    rows = []
    for n in counts:
        row = run(n, args.rounds, args.backlog, args.seed)
        rows.append(row)
        print(
            f"claimers={n:<4} 409={row['contention']}/{row['claims']} calls mean={row['calls_mean']:.2f} "
            f"p95={row['calls_p95']} rank p95={row['rank_p95']} twice={row['double']} {row['wall']:.1f} s "
            + " ".join(f"r{i}:{n}/{c:.2f}" for i, (n, c) in enumerate(row["per_round"])),
            flush=True,
        )
    lines = [
        f"### {args.label or 'run'} ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {args.rounds} claims per claimer)",
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
