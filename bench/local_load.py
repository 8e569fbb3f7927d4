"""Local end-to-end load benchmark: latency (p50/p95/p99) and throughput of the task API.

For create, claim and get at 1, 8, 32 and 128 concurrent clients it sends a bounded number
of requests two ways and writes both into one Markdown table:

* ``http``: over loopback HTTP with keep-alive (``http.client``, one connection per client
  thread) to the local API server, which calls the handler, which calls the emulator;
* ``in-process``: the same requests (same proxy events) straight to ``lambda_handler`` in
  this process, so the HTTP layer's share of the latency is visible.

Everything runs on this machine (client, API server, handler and the moto emulator share its
cores), so these are numbers for the local platform, not for AWS. See docs/capacity.md.

    # reuse a running `make local` (reads .local/session.json)
    .venv/bin/python -m bench.local_load
    # or deploy a private copy, measure, discard it
    .venv/bin/python -m bench.local_load --deploy
    # quick run: fewer requests
    .venv/bin/python -m bench.local_load --requests 60 --no-write
    # claims only, into another file
    .venv/bin/python -m bench.local_load --deploy --actions claim --out /tmp/claims.md

Before each claim row the queue is filled (unmeasured) with PENDING_PER_CLIENT tasks per
client plus the row's requests, so claimers never run out of pending work.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from bench.load_cells import Cell, Pool, Row, direct_sender_factory, http_sender_factory, run_cell
from bench.load_report import RunInfo, markdown
from local import session as sessions
from local.api_server import load_handler
from local.paths import LocalPaths, local_paths
from local.session import Session
from workspace.processes import free_port

ROOT = Path(__file__).resolve().parent.parent

CONCURRENCY = (1, 8, 32, 128)
PENDING_PER_CLIENT = 4
ACTIONS = ("create", "claim", "get")
PATHS = ("http", "in-process")
REPORT = ROOT / "docs" / "benchmarks-local.md"
#: Answers of the API server to an empty, keyless request: it runs and reaches the handler.
_SERVING = (400, 401, 403)


def _answers(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=3)
        conn.request("POST", parts.path, body=b"{}", headers={"Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
    except OSError:
        return False
    return status in _SERVING


class Target:
    """A deployment and an API server to send to; cleans up whatever it started."""

    def __init__(self, deploy: bool) -> None:
        self.started: list[subprocess.Popen[bytes]] = []
        self.deployed: LocalPaths | None = None
        self.env = dict(os.environ)
        paths = self._deploy() if deploy else local_paths()
        session = sessions.read(paths)
        if session is None:
            self.close()
            raise SystemExit("bench: no local deployment found (.local/session.json): run make local, or pass --deploy")
        self.session: Session = session
        self.url = session.api_url
        if not _answers(self.url):
            self._serve(paths)

    def _deploy(self) -> LocalPaths:
        bench_dir = ROOT / ".bench" / "local"
        self.env["TAP_LOCAL_DIR"] = str(bench_dir)
        print(f"deploying a private copy of the local platform into {bench_dir} …", flush=True)
        command = [sys.executable, "-m", "local.up", "--no-serve", "--port", str(free_port())]
        command += ["--api-port", str(free_port())]
        self.deployed = LocalPaths(root=bench_dir, outdir=bench_dir / "cdktf.out")
        if subprocess.run(command, cwd=ROOT, env=self.env, check=False).returncode != 0:
            self.close()
            raise SystemExit("bench: the deploy failed (see above)")
        return self.deployed

    def _serve(self, paths: LocalPaths) -> None:
        port = free_port()
        print(f"no API server answers on {self.url}; starting one on port {port} …", flush=True)
        log_path = paths.root / "bench-api.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "local.up", "--serve-only", "--quiet", "--api-port", str(port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.started.append(process)
        self.url = self.session.served_on(port).api_url
        deadline = time.monotonic() + 60
        while not _answers(self.url):
            if process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise SystemExit(f"bench: the API server did not start; see {log_path}")
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
        if self.deployed is not None:
            # The private copy's resources live only in its own emulator's memory: stopping
            # the emulator discards them, so no terraform destroy (which deletes audit objects
            # one page at a time: over 20 minutes after a 10,000-line import).
            print("discarding the private copy (local.down --force) …", flush=True)
            subprocess.run([sys.executable, "-m", "local.down", "--force"], cwd=ROOT, env=self.env, check=False)
            self.deployed = None


def measure(
    target: Target, requests: int, max_seconds: float, actions: list[str], concurrency: list[int]
) -> list[Cell]:
    session = target.session
    handler = load_handler(environ=session.handler_env)
    factories = {
        "http": http_sender_factory(target.url, session.api_key),
        "in-process": direct_sender_factory(handler, session.api_key, session.function_name),
    }
    pool = Pool()
    cells: list[Cell] = []
    sink = io.StringIO()
    # The handler logs one JSON line per request on stdout; keep it out of the terminal.
    with contextlib.redirect_stdout(sink):
        for path in PATHS:
            for action in ("create", "get"):  # warm-up: clients, key cache, connections
                run_cell(Row(action, 2, path, 10, 30), factories[path], pool)
    print(f"measuring {len(actions) * len(concurrency) * len(PATHS)} rows of up to {requests} requests …", flush=True)
    for clients in concurrency:
        for action in actions:
            for path in PATHS:
                with contextlib.redirect_stdout(sink):
                    if action == "claim":  # fill the queue first (not measured)
                        fill = Row("create", 8, "in-process", PENDING_PER_CLIENT * clients + requests, max_seconds)
                        run_cell(fill, factories["in-process"], pool)
                    cell = run_cell(Row(action, clients, path, requests, max_seconds), factories[path], pool)
                sink.seek(0)
                sink.truncate()
                cells.append(cell)
                print(
                    f"  {action:6} clients={clients:<3} {path:10} n={len(cell.latencies_ms):<4} "
                    f"p50={cell.percentile(50):7.1f} ms p95={cell.percentile(95):7.1f} ms "
                    f"p99={cell.percentile(99):7.1f} ms {cell.throughput:6.1f} req/s non-2xx={cell.rejected} "
                    f"twice={cell.twice}",
                    flush=True,
                )
    cells.sort(key=lambda c: (ACTIONS.index(c.action), c.clients, PATHS.index(c.path)))
    return cells


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local end-to-end load benchmark of the task API.")
    parser.add_argument("--deploy", action="store_true", help="deploy a private copy, measure, discard it")
    parser.add_argument("--requests", type=int, default=300, help="requests per row (default %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time limit per row (default %(default)s)")
    parser.add_argument("--no-write", action="store_true", help="print the table only; write no file")
    parser.add_argument("--out", type=Path, default=REPORT, help="report file (default docs/benchmarks-local.md)")
    parser.add_argument("--actions", default=",".join(ACTIONS), help="comma-separated (default %(default)s)")
    parser.add_argument("--clients", default=",".join(map(str, CONCURRENCY)), help="comma-separated client counts")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    actions = [a for a in args.actions.split(",") if a]
    if not actions or set(actions) - set(ACTIONS):
        parser.error(f"--actions {args.actions!r}: choose from {', '.join(ACTIONS)}")
    try:
        concurrency = [int(c) for c in args.clients.split(",")]
    except ValueError:
        concurrency = []
    if not concurrency or min(concurrency) < 1:
        parser.error(f"--clients {args.clients!r} is not a comma-separated list of positive integers")

    target = Target(args.deploy)
    try:
        started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        began = time.monotonic()
        cells = measure(target, args.requests, args.max_seconds, actions, concurrency)
        report = markdown(cells, actions, RunInfo(args.requests, started, time.monotonic() - began))
    finally:
        target.close()
    print()
    print(report)
    if not args.no_write:
        args.out.write_text(report)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; what it started has been stopped", file=sys.stderr)
        sys.exit(130)
