"""Mixed load of the task API: what 1,000 clients cost, in process and over HTTP on the local platform.

One command measures both and writes docs/benchmarks-mixed.md:

* **in process**: 1,000 clients (testkit/mixed_load.py: producers, annotators, viewers)
  against the real handler on moto, each DynamoDB operation atomic under one lock. Per
  request type it reports the DynamoDB units (bench/dynamodb_units.py), the handler's own
  CPU time (the request's thread CPU time less moto's share) and the latency percentiles;
  then whether anything was lost (every created task exported once with its feedback, no 5xx).
* **over HTTP**: the same mix against a private copy of ``make local`` (deployed, measured,
  discarded), client counts stepped up until a step sees an error (a 5xx, no answer, or a
  lost task): the largest count served without one is reported.

Every number is this machine's (2 cores shared with other work; the load average is
noted), not AWS's: docs/capacity.md turns the per-request costs into AWS capacity.

    .venv/bin/python -m bench.mixed_load                      # both parts, writes the report
    .venv/bin/python -m bench.mixed_load --only in-process --clients 200 --tasks 200 --no-write
    .venv/bin/python -m bench.mixed_load --only http --steps 8,32,128 --no-write
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import platform
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import boto3
import moto
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from bench.dynamodb_units import Meter
from bench.handler_bench import BUCKET, KEY, SECRET, TABLE, _isolated_env, table_kwargs
from bench.load_cells import NO_ANSWER
from bench.local_load import Target
from bench.mixed_report import Costs, Step, Unanswered, render
from testkit.mixed_load import Mix, Outcome, Sender, atomic_dynamodb, in_process, run

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks-mixed.md"
STEPS = (8, 32, 128, 256, 512, 1000)
#: Tasks of an HTTP step with few clients (a step has as many tasks as clients, up to --http-tasks).
MIN_STEP_TASKS = 50
#: A producer and an annotator.
MIN_CLIENTS = 2
#: Seconds an HTTP client waits for an answer (the local server's function times out at 15 s).
REQUEST_TIMEOUT = 60.0


def label(payload: dict[str, Any], status: int) -> str:
    """The request type a cost belongs to: action, the variant that changes its cost, status."""
    action = payload["action"]
    if action == "create_task" and "client_token" in payload:
        action += " (client_token)"
    elif action == "list_tasks":
        action += f" (limit {payload.get('limit', 25)})"
    return f"{action} {status}"


class _MotoClock:
    """Thread CPU time spent inside moto (its botocore stub serves every AWS call)."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.original = BotocoreStubber.__call__

        def timed(stub: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
            began = time.thread_time()
            try:
                return self.original(stub, *args, **kwargs)
            finally:
                self.local.spent = getattr(self.local, "spent", 0.0) + time.thread_time() - began

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]

    def spent(self) -> float:
        return float(getattr(self.local, "spent", 0.0))

    def close(self) -> None:
        BotocoreStubber.__call__ = self.original  # type: ignore[method-assign]


def metered(make: Any, meter: Meter, clock: _MotoClock, costs: Costs) -> Any:
    """Senders from ``make`` that file each request's units and CPU time under its type."""

    def factory() -> Sender:
        send = make()

        def measured(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
            cpu, moto_cpu = time.thread_time(), clock.spent()
            meter.start()
            status, body = send(payload)
            units = meter.take()
            inside = clock.spent() - moto_cpu
            kind = label(payload, status)
            with costs.lock:
                costs.units[kind].append(units)
                costs.moto_ms[kind].append(inside * 1000)
                costs.own_ms[kind].append((time.thread_time() - cpu - inside) * 1000)
            return status, body

        return measured

    return factory


def in_process_run(mix: Mix, containers: int) -> tuple[Outcome, Costs]:
    _isolated_env()
    from function import handler  # noqa: PLC0415 (after the environment is set, as on Lambda)

    meter, costs, clock = Meter(), Costs(), _MotoClock()
    try:
        with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
            boto3.client("dynamodb").create_table(**table_kwargs(TABLE))
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps({"api_keys": [KEY]}))
            runtimes = [handler.Runtime(handler.s.Settings.from_env()) for _ in range(containers)]
            with atomic_dynamodb(meter):
                outcome = run(mix, metered(in_process(runtimes, KEY), meter, clock, costs))
    finally:
        clock.close()
    return outcome, costs


def http_once(url: str, key: str, unanswered: Unanswered) -> Any:
    """Senders over keep-alive HTTP, one connection per client, that never resend: a request
    that fails (reset, timeout after ``REQUEST_TIMEOUT`` s) is answered ``NO_ANSWER``, since
    resending a write whose answer was lost could apply it twice."""
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    headers = {"Content-Type": "application/json", "x-api-key": key}

    def factory() -> Sender:
        conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)

        def send(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
            nonlocal conn
            try:
                conn.request("POST", path, body=json.dumps(payload).encode(), headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (http.client.HTTPException, OSError) as error:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
                with unanswered.lock:
                    unanswered.reasons[type(error).__name__] += 1
                return NO_ANSWER, None
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, None

        return send

    return factory


def http_steps(steps: list[int], tasks: int, max_seconds: float) -> list[Step]:
    """The mix over HTTP on a private ``make local`` copy, client count by client count,
    until a step sees an error; that step is the last one reported."""
    target = Target(deploy=True)
    done: list[Step] = []
    try:
        for clients in steps:
            size = min(tasks, max(clients, MIN_STEP_TASKS))
            mix = Mix(clients=clients, tasks=size, tag=f"step{clients}-", max_seconds=max_seconds)
            print(f"  over HTTP: {clients} clients, {mix.tasks} tasks …", flush=True)
            unanswered = Unanswered()
            outcome = run(mix, http_once(target.url, target.session.api_key, unanswered))
            done.append((clients, mix, outcome, unanswered))
            problems = outcome.problems()
            print(f"    {len(outcome.records)} requests in {outcome.wall_seconds:.1f} s, problems: {problems}")
            if outcome.problems():
                break
    finally:
        target.close()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", choices=("in-process", "http"), help="run one part")
    parser.add_argument("--clients", type=int, default=1000, help="in-process clients (default %(default)s)")
    parser.add_argument("--tasks", type=int, default=1000, help="in-process tasks (default %(default)s)")
    parser.add_argument("--containers", type=int, default=50, help="warm handler containers in process")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="HTTP client counts, in order")
    parser.add_argument("--http-tasks", type=int, default=300, help="tasks per HTTP step at most (default %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="time limit of the in-process run")
    parser.add_argument("--step-seconds", type=float, default=300.0, help="time limit of one HTTP step")
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    args = parser.parse_args(argv)
    try:
        steps = [int(n) for n in args.steps.split(",")]
    except ValueError:
        steps = []
    if min(steps, default=0) < MIN_CLIENTS or args.clients < MIN_CLIENTS or min(args.tasks, args.containers) < 1:
        parser.error(f"--steps and --clients: at least {MIN_CLIENTS} clients; --tasks and --containers: at least 1")
    notes = [
        f"- started {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}, moto {moto.__version__}; "
        f"load average at the start {os.getloadavg()[0]:.1f}"
    ]
    inproc = None
    if args.only != "http":
        mix = Mix(clients=args.clients, tasks=args.tasks, max_seconds=args.max_seconds)
        print(f"in process: {mix.clients} clients, {mix.tasks} tasks, {args.containers} containers …", flush=True)
        outcome, costs = in_process_run(mix, args.containers)
        inproc = (mix, outcome, costs)
        shared = f"{args.containers} warm containers (`Runtime`) shared by the clients"
        notes.append(f"- in process: {shared}; load average after {os.getloadavg()[0]:.1f}")
    done: list[Step] = []
    if args.only != "in-process":
        done = http_steps(steps, args.http_tasks, args.step_seconds)
        notes.append(f"- over HTTP: load average after {os.getloadavg()[0]:.1f}")
    report = render(inproc, done, notes)
    print(report)
    if not args.no_write:
        args.out.write_text(report)
        print(f"written to {args.out}")
    return 1 if inproc and inproc[1].problems() else 0


if __name__ == "__main__":
    sys.exit(main())
