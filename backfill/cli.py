"""The ``python -m backfill`` command line (``make backfill-shards STACK=prod``).

Exit status: 0 done (the counts on stdout); 1 stopped part-way (what was written stays;
running it again finishes the job); 2 nothing written: bad input, a table that does not
exist, or AWS out of reach (one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from function.tasks import TaskRepository
from stacks.config import DEFAULT_REGION, ENVIRONMENTS, ConfigError, operator_endpoint
from workspace import clients
from workspace.deployed import OutputsUnavailable, stack_dir, stack_outputs

EXIT_STOPPED = 1
EXIT_REFUSED = 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m backfill", description="Give the pending tasks of the task table their queue shard."
    )
    p.add_argument("--env", choices=ENVIRONMENTS, default="prod", help="the deployed stack (default prod)")
    p.add_argument("--table", help="the table (default: the stack's output dynamodb_table_name)")
    p.add_argument("--stack-dir", help="the stack folder whose Terraform outputs name the table")
    p.add_argument("--endpoint", help="the emulator of the local stack (default TAP_EMULATOR_ENDPOINT)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        endpoint = operator_endpoint(args.env, args.endpoint)
        directory = Path(args.stack_dir) if args.stack_dir else stack_dir(args.env)
        table = args.table or _table_from_outputs(directory, endpoint)
        db = clients.client("dynamodb", endpoint) if endpoint else _aws_dynamodb()
        db.describe_table(TableName=table)
    except (ConfigError, OutputsUnavailable) as exc:
        return _refused(str(exc))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return _refused(f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}; nothing written")
    except BotoCoreError as exc:
        return _refused(f"AWS out of reach: {exc}")
    try:
        given, left = TaskRepository(db, table).backfill_shards()
    except (ClientError, BotoCoreError) as exc:
        print(f"backfill: stopped: {exc}; what was written stays, run it again to finish", file=sys.stderr)
        return EXIT_STOPPED
    print(f"backfill: {table}: {given} pending task(s) given their queue shard, {left} already in one or claimed since")
    return 0


def _table_from_outputs(directory: Path, endpoint: str | None) -> str:
    try:
        name = stack_outputs(directory, endpoint).get("dynamodb_table_name")
    except OutputsUnavailable as exc:
        raise OutputsUnavailable(f"{exc}, or name the table with --table") from None
    if not name:
        raise OutputsUnavailable(f"the stack in {directory} has no output dynamodb_table_name: name it with --table")
    return str(name)


def _aws_dynamodb() -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    return boto3.session.Session(region_name=region).client("dynamodb")


def _refused(message: str) -> int:
    print(f"backfill: {message}", file=sys.stderr)
    return EXIT_REFUSED
