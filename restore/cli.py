"""The ``python -m restore`` command line (``make restore-table STACK=prod TIME=...``).

Without ``--yes`` it checks everything and prints what it would do, changing nothing.
Exit status: 0 restored (or, without ``--yes``, the plan printed); 1 a step failed after the
restore began (the temporary table is kept, the message says where it stopped); 2 nothing
was started: bad input, a time outside the recovery window, a table that does not exist, or
AWS out of reach (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from restore import steps
from restore.target import RestoreError, Target, check, iso, parse_time
from stacks.config import ENVIRONMENTS
from workspace.operator_cli import STOPS, deployed, refuse, stack_parser

EXIT_FAILED = 1
STEPS = 5


def parser() -> argparse.ArgumentParser:
    description = "Restore the task table to a point in time, in place (docs/runbooks.md)."
    p = stack_parser("python -m restore", description, ENVIRONMENTS, "the table")
    p.add_argument("--to-time", required=True, help="ISO 8601 time with its offset, e.g. 2026-05-01T12:00:00Z")
    p.add_argument("--yes", action="store_true", help="do it; without, only check and print the plan")
    p.add_argument("--keep", action="store_true", help="keep the temporary restored table afterwards")
    p.add_argument("--sample", type=int, default=20, help="restored items compared with the live table (default 20)")
    p.add_argument("--table", help="the table (default: the stack's output dynamodb_table_name)")
    p.add_argument("--wait-timeout", type=float, default=4 * 3600.0, help="seconds to wait for the restore (4 h)")
    p.add_argument("--poll-seconds", type=float, default=10.0, help="seconds between two looks (default 10)")
    return p


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        db, target = _checked(args)
    except STOPS as exc:
        return refuse("restore", exc)
    say(
        f"restore: {target.table}: point-in-time recovery window {iso(target.earliest)} .. {iso(target.latest)}; "
        f"restoring as of {iso(target.moment)} into {target.temporary}"
    )
    if not args.yes:
        say(
            f"restore: would restore into {target.temporary}, check it, copy its items back into {target.table} "
            f"(a restored item wins only where the live one is missing or older) and "
            f"{'keep' if args.keep else 'delete'} {target.temporary}"
        )
        say("restore: nothing changed; run again with --yes to do it")
        return 0
    try:
        return _run(db, target, args)
    except STOPS as exc:
        print(f"restore: stopped: {exc}; {target.table} keeps what was copied so far", file=sys.stderr)
        return EXIT_FAILED


def _checked(args: argparse.Namespace) -> tuple[Any, Target]:
    if args.sample < 0:
        raise RestoreError(f"--sample {args.sample}: give 0 or more items")
    moment = parse_time(args.to_time)
    stack = deployed(args)
    table = args.table or stack.output("dynamodb_table_name", "name the table with --table")
    db = stack.client("dynamodb")
    return db, check(db, table, moment, datetime.now(UTC))


def _run(db: Any, target: Target, args: argparse.Namespace) -> int:
    started = time.monotonic()
    timings: dict[str, float] = {}

    def step(number: int, text: str) -> float:
        say(f"[{number}/{STEPS}] {text}")
        return time.monotonic()

    mark = step(1, f"restoring {target.table} as of {iso(target.moment)} into {target.temporary}")
    steps.start(db, target)
    timings["restore"] = time.monotonic() - mark
    mark = step(2, f"waiting until {target.temporary} is ACTIVE")
    steps.wait_active(db, target.temporary, say, poll_seconds=args.poll_seconds, timeout_seconds=args.wait_timeout)
    timings["wait"] = time.monotonic() - mark
    mark = step(3, f"checking {target.temporary}")
    restored = steps.count(db, target.temporary)
    live = steps.count(db, target.table)
    say(f"      {restored} items restored (Scan, Select=COUNT); {live} in {target.table} now")
    sample = steps.compare_sample(db, target, args.sample)
    say(
        f"      sample of {sum(map(len, sample.values()))} against {target.table}: {len(sample['same'])} the same, "
        f"{len(sample['differ'])} differ, {len(sample['missing'])} missing there (both are copied back by the rule)"
    )
    for line in sample["differ"]:
        say(f"        differs: {line}")
    timings["check"] = time.monotonic() - mark
    mark = step(4, f"copying restored items back into {target.table} (the API keeps answering)")
    counts = steps.copy_back(db, target, say, now_epoch=time.time())
    say(f"      {counts.line()}")
    timings["copy"] = time.monotonic() - mark
    if args.keep:
        step(5, f"keeping {target.temporary} (--keep): delete it with aws dynamodb delete-table when done")
    else:
        mark = step(5, f"deleting {target.temporary}")
        steps.delete(db, target.temporary)
        timings["delete"] = time.monotonic() - mark
    spent = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    say(
        f"restore: done in {time.monotonic() - started:.1f} s ({spent}): {target.table} restored as of "
        f"{iso(target.moment)}; {counts.written} items written back, items changed or created since kept"
    )
    return 0
