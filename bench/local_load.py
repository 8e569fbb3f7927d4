"""Local end-to-end load benchmark: latency (p50/p95/p99) and throughput of the task API.

For create, claim and get at 1, 8 and 32 concurrent clients it sends a bounded number of
requests two ways and writes both into one Markdown table:

* ``http``: over loopback HTTP with keep-alive (``http.client``, one connection per client
  thread) to the local API server, which calls the handler, which calls the emulator;
* ``in-process``: the same requests (same proxy events) straight to ``lambda_handler`` in
  this process, so the HTTP layer's share of the latency is visible.

Everything runs on this machine (client, API server, handler and the moto emulator share its
cores), so these are numbers for the local platform, not for AWS. See docs/capacity.md.

    # reuse a running `make local` (reads .local/session.json)
    .venv/bin/python bench/local_load.py
    # or deploy a private copy, measure, destroy it
    .venv/bin/python bench/local_load.py --deploy
    # quick run: fewer requests
    .venv/bin/python bench/local_load.py --requests 60 --no-write
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.paths import LocalPaths, local_paths  # noqa: E402

CONCURRENCY = (1, 8, 32)
ACTIONS = ("create", "claim", "get")
REPORT = ROOT / "docs" / "benchmarks-local.md"


# --------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------


@dataclass
class Pool:
    """Task ids created during the run: ``get`` reads them, ``claim`` takes pending ones."""

    ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, task_id: str) -> None:
        with self.lock:
            self.ids.append(task_id)

    def any(self) -> str:
        with self.lock:
            return random.choice(self.ids)


def body_for(action: str, pool: Pool, worker: int) -> dict[str, Any]:
    if action == "create":
        return {
            "action": "create_task",
            "task": {
                "kind": "pairwise",
                "prompt": f"bench prompt {uuid.uuid4()}",
                "responses": ["first answer", "second answer"],
                "priority": random.randint(0, 9),
                "metadata": {"source": "bench"},
            },
        }
    if action == "claim":
        return {"action": "claim_task", "annotator_id": f"bench-annotator-{worker}"}
    if action == "get":
        return {"action": "get_task", "task_id": pool.any()}
    raise ValueError(action)


@dataclass
class Cell:
    action: str
    clients: int
    path: str
    latencies_ms: list[float]
    statuses: dict[int, int]
    wall_seconds: float

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        rank = max(1, int(round(q / 100 * len(data) + 0.5)))  # nearest rank
        return data[min(rank, len(data)) - 1]

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_seconds if self.wall_seconds else 0.0


Sender = Callable[[dict[str, Any]], tuple[int, dict[str, Any] | None]]


def run_cell(
    action: str, clients: int, path: str, requests: int, max_seconds: float,
    make_sender: Callable[[], Sender], pool: Pool,
) -> Cell:
    """``requests`` requests spread over ``clients`` threads; stops early after ``max_seconds``."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(requests))
    counter_lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    start = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        send = make_sender()
        start.wait()
        while time.monotonic() < deadline:
            with counter_lock:
                if next(counter, None) is None:
                    return
            payload = body_for(action, pool, index)
            began = time.perf_counter()
            status, body = send(payload)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
            if action == "create" and status == 201 and body:
                pool.add(body["task"]["id"])

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return Cell(action, clients, path, latencies, statuses, time.perf_counter() - began)


def http_sender_factory(url: str, key: str) -> Callable[[], Sender]:
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path

    def factory() -> Sender:
        conn = http.client.HTTPConnection(host, port, timeout=60)

        def send(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
            nonlocal conn
            data = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", "x-api-key": key}
            for attempt in (1, 2):
                try:
                    conn.request("POST", path, body=data, headers=headers)
                    response = conn.getresponse()
                    raw = response.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=60)
                    if attempt == 2:
                        return 599, None
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, None

        return send

    return factory


def direct_sender_factory(handler: Callable[..., Any], key: str, function_name: str) -> Callable[[], Sender]:
    from local.api_server import LambdaContext, make_event

    def factory() -> Sender:
        def send(payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
            request_id = str(uuid.uuid4())
            body = json.dumps(payload).encode()
            headers = [("Host", "127.0.0.1"), ("Content-Type", "application/json"), ("x-api-key", key),
                       ("Content-Length", str(len(body)))]
            event = make_event("POST", "/lambda", headers, body, "127.0.0.1", "local", request_id)
            result = handler(event, LambdaContext(function_name=function_name, timeout_seconds=15,
                                                  aws_request_id=request_id))
            try:
                return result["statusCode"], json.loads(result["body"])
            except (KeyError, TypeError, ValueError):
                return 599, None

        return send

    return factory


# --------------------------------------------------------------------------------------
# The deployment to measure
# --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=3)
        conn.request("POST", parts.path, body=b"{}", headers={"Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
        return status in (400, 401, 403)
    except OSError:
        return False


class Target:
    """A deployment and an API server to send to; cleans up whatever it started."""

    def __init__(self, deploy: bool) -> None:
        self.started: list[subprocess.Popen[bytes]] = []
        self.deployed_paths: LocalPaths | None = None
        self.env = dict(os.environ)
        if deploy:
            bench_dir = ROOT / ".bench" / "local"
            self.env["TAP_LOCAL_DIR"] = str(bench_dir)
            emulator_port = _free_port()
            print(f"deploying a private copy of the local platform into {bench_dir} …", flush=True)
            result = subprocess.run(
                [sys.executable, "-m", "local.up", "--no-serve", "--port", str(emulator_port),
                 "--api-port", str(_free_port())],
                cwd=ROOT, env=self.env, check=False,
            )
            self.deployed_paths = LocalPaths(project=ROOT, root=bench_dir, outdir=bench_dir / "cdktf.out")
            if result.returncode != 0:
                self.close()
                raise SystemExit("bench: the deploy failed (see above)")
            paths = self.deployed_paths
        else:
            paths = local_paths()
        try:
            self.session = json.loads(paths.session.read_text())
        except (OSError, ValueError):
            raise SystemExit("bench: no local deployment found (.local/session.json): run make local, or pass --deploy")
        self.url = self.session["api_url"]
        if not _answers(self.url):
            port = _free_port()
            print(f"no API server answers on {self.url}; starting one on port {port} …", flush=True)
            log = open(paths.root / "bench-api.log", "ab")
            process = subprocess.Popen(
                [sys.executable, "-m", "local.up", "--serve-only", "--quiet", "--api-port", str(port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
            self.started.append(process)
            self.url = f"http://127.0.0.1:{port}/lambda"
            deadline = time.monotonic() + 60
            while not _answers(self.url):
                if process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise SystemExit(f"bench: the API server did not start; see {paths.root / 'bench-api.log'}")
                time.sleep(0.3)

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.started.clear()
        if self.deployed_paths is not None:
            print("destroying the private copy …", flush=True)
            subprocess.run([sys.executable, "-m", "local.down"], cwd=ROOT, env=self.env, check=False)
            self.deployed_paths = None


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def markdown(cells: list[Cell], requests: int, started: str, duration: float) -> str:
    import boto3
    import moto

    lines = [
        "# Local end-to-end benchmark",
        "",
        "Measured by `bench/local_load.py` against the local platform (`make local`: moto emulator,",
        "local API server, real handler). Client threads, API server, handler and emulator share",
        "this one machine, so the numbers describe the local platform, not AWS (see",
        "[capacity.md](capacity.md) for AWS).",
        "",
        f"- measured: {started} UTC, {duration:.0f} s in all",
        f"- machine: {os.cpu_count()} cores (`os.cpu_count()`), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, moto {moto.__version__}, boto3 {boto3.__version__}",
        f"- {requests} requests per row (fewer if a row hit its time limit); keep-alive HTTP/1.1 on 127.0.0.1",
        "- `http`: client → HTTP → local API server → handler → emulator; "
        "`in-process`: the same proxy event straight to `lambda_handler`",
        "- latency in milliseconds per request, throughput in completed requests per second; "
        "`non-2xx` counts answers outside 200-299 (e.g. 409 when claimers race for the same task)",
        "",
        "| action | clients | path | requests | non-2xx | p50 ms | p95 ms | p99 ms | req/s |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cell in cells:
        errors = len(cell.latencies_ms) - cell.ok
        detail = ""
        if errors:
            detail = " (" + ", ".join(f"{s}×{n}" for s, n in sorted(cell.statuses.items()) if not 200 <= s < 300) + ")"
        lines.append(
            f"| {cell.action} | {cell.clients} | {cell.path} | {len(cell.latencies_ms)} | {errors}{detail} | "
            f"{cell.percentile(50):.1f} | {cell.percentile(95):.1f} | {cell.percentile(99):.1f} | {cell.throughput:.1f} |"
        )
    lines += [
        "",
        "Notes on reading it:",
        "",
        "- For each client count the rows run in the order action by action, `http` first; every task",
        "  created stays in the table, and the emulator answers a Query by scanning the whole table,",
        "  so later rows work on a bigger table than earlier ones.",
        "- `claim` asks for the next task (`claim_task` without `task_id`): concurrent claimers read the",
        "  same head of the queue and race for it; a claimer that loses all its attempts gets",
        "  `409 claim_contention` (counted in `non-2xx`).",
        "- With several clients the emulator (one Python process) and the server compete for the same",
        "  cores, so latency grows with the client count while throughput stays flat.",
        "",
        "Reproduce: `make local` in one terminal, then `.venv/bin/python bench/local_load.py` in another",
        "(or `bench/local_load.py --deploy` to deploy, measure and destroy a private copy).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deploy", action="store_true", help="deploy a private copy, measure, destroy it")
    parser.add_argument("--requests", type=int, default=300, help="requests per row (default %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time limit per row (default %(default)s)")
    parser.add_argument("--no-write", action="store_true", help=f"print the table only; leave {REPORT.name} alone")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")

    target = Target(args.deploy)
    try:
        session = target.session
        key = session["api_key"]
        os.environ.update(session["handler_env"])
        from local.api_server import load_handler

        handler = load_handler(environ=session["handler_env"])
        http_factory = http_sender_factory(target.url, key)
        direct_factory = direct_sender_factory(handler, key, session["function_name"])
        pool = Pool()
        started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        began = time.monotonic()
        cells: list[Cell] = []
        sink = io.StringIO()
        # The handler logs one JSON line per request on stdout; keep it out of the terminal.
        with contextlib.redirect_stdout(sink):
            for path, factory in (("http", http_factory), ("in-process", direct_factory)):
                for action in ("create", "get"):  # warm-up: clients, key cache, connections
                    run_cell(action, 2, path, 10, 30, factory, pool)
        print(f"measuring {len(ACTIONS) * len(CONCURRENCY) * 2} rows of up to {args.requests} requests …", flush=True)
        for clients in CONCURRENCY:
            for action in ACTIONS:
                for path, factory in (("http", http_factory), ("in-process", direct_factory)):
                    with contextlib.redirect_stdout(sink):
                        cell = run_cell(action, clients, path, args.requests, args.max_seconds, factory, pool)
                    sink.seek(0)
                    sink.truncate()
                    cells.append(cell)
                    print(
                        f"  {action:6} clients={clients:<3} {path:10} n={len(cell.latencies_ms):<4} "
                        f"p50={cell.percentile(50):7.1f} ms p95={cell.percentile(95):7.1f} ms "
                        f"p99={cell.percentile(99):7.1f} ms {cell.throughput:6.1f} req/s "
                        f"non-2xx={len(cell.latencies_ms) - cell.ok}",
                        flush=True,
                    )
        cells.sort(key=lambda c: (ACTIONS.index(c.action), c.clients, c.path != "http"))
        report = markdown(cells, args.requests, started, time.monotonic() - began)
    finally:
        target.close()
    print()
    print(report)
    if not args.no_write:
        REPORT.write_text(report)
        print(f"written to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; what it started has been stopped", file=sys.stderr)
        sys.exit(130)
