"""The ``python -m backfill`` command line (``make backfill-shards STACK=prod``).

Exit status: 0 done (the counts on stdout); 1 stopped part-way (what was written stays;
running it again finishes the job); 2 nothing written: bad input, a table that does not
exist, or AWS out of reach (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from function.tasks import TaskRepository
from stacks.config import ENVIRONMENTS
from workspace.operator_cli import STOPS, deployed, refuse, stack_parser

EXIT_STOPPED = 1


def parser() -> argparse.ArgumentParser:
    description = "Give the pending tasks of the task table their queue shard."
    p = stack_parser("python -m backfill", description, ENVIRONMENTS, "the table")
    p.add_argument("--table", help="the table (default: the stack's output dynamodb_table_name)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        stack = deployed(args)
        table = args.table or stack.output("dynamodb_table_name", "name the table with --table")
        db = stack.client("dynamodb")
        db.describe_table(TableName=table)
    except STOPS as exc:
        return refuse("backfill", exc)
    try:
        given, left = TaskRepository(db, table).backfill_shards()
    except STOPS as exc:
        print(f"backfill: stopped: {exc}; what was written stays, run it again to finish", file=sys.stderr)
        return EXIT_STOPPED
    print(f"backfill: {table}: {given} pending task(s) given their queue shard, {left} already in one or claimed since")
    return 0
