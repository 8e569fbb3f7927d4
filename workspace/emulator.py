"""The mended moto server (see ``workspace/patches.py``): start it, find it, stop it, serve it.

The public API for every tool that needs an emulator (``make local``, ``migration prove``, the
tests, the benchmarks) is described in docs/local.md, "The emulator from other code".
``python -m workspace.emulator`` serves in the foreground; ``--background`` starts it detached,
creates the state bucket and returns (``make emulator``, before ``npx cdktf deploy local``).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from workspace import clients, processes
from workspace.loopback import DEFAULT_EMULATOR_PORT, is_loopback_host
from workspace.paths import PROJECT, EmulatorPaths, local_dirs, shown

HOST = processes.HOST
STATE_BUCKET = "tap-stack-local-tfstate"
#: Written in the emulator's command line so a pid from the pid file is recognised as ours.
MARKER = "workspace.emulator"
#: Exit status of ``serve`` when its port is taken.
EXIT_PORT_IN_USE = 3


class EmulatorError(RuntimeError):
    """The emulator could not be started, reached or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class RunningEmulator:
    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        return endpoint_url(self.port)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this emulator."""
        return clients.client(service, self.endpoint)


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def answers(port: int, timeout: float = 2.0) -> bool:
    """Whether a moto server answers on ``port`` (its STS GetCallerIdentity works)."""
    request = urllib.request.Request(
        endpoint_url(port) + "/",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-west-2/sts/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status == HTTPStatus.OK and b"GetCallerIdentityResult" in response.read()
    except (urllib.error.URLError, OSError, ValueError):
        return False


def find(paths: EmulatorPaths) -> RunningEmulator | None:
    """The emulator the pid file in ``paths`` names, if it still runs."""
    found = processes.read_pid_file(paths.emulator_pid, MARKER)
    return RunningEmulator(*found) if found else None


def start(port: int, paths: EmulatorPaths, wait_seconds: float = 60.0) -> RunningEmulator:
    """Start the emulator detached from this process and wait until it answers."""
    if not processes.port_bindable(port):
        raise EmulatorError(
            f"port {port} on {HOST} is already in use by another program, so the emulator cannot start.\n"
            f"what to do: stop that program, or pick another port: make local TAP_EMULATOR_PORT=4567 "
            f"(or python -m local.up --port 4567)"
        )
    paths.root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", **clients.DUMMY_CREDENTIALS)
    env.setdefault("AWS_DEFAULT_REGION", clients.REGION)
    with open(paths.emulator_log, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", MARKER, "--host", HOST, "--port", str(port)],
            cwd=PROJECT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal that started it does not reach it
        )
    paths.emulator_pid.write_text(json.dumps({"pid": process.pid, "port": port}) + "\n")
    ready = processes.wait_until(lambda: process.poll() is not None or answers(port, 1.0), wait_seconds, 0.2)
    if process.poll() is not None:
        why, todo = (
            f"exited at start (exit code {process.returncode})",
            "if the port is taken, pick another with --port",
        )
    elif ready:
        return RunningEmulator(pid=process.pid, port=port)
    else:
        processes.stop_process(process.pid)
        why = f"did not answer on {endpoint_url(port)} within {wait_seconds:.0f} s"
        todo = "check that moto[server] is installed (pipenv sync --dev)"
    paths.emulator_pid.unlink(missing_ok=True)
    raise EmulatorError(
        f"the emulator {why}.\n{processes.tail(paths.emulator_log, 15)}\n"
        f"what to do: read {shown(paths.emulator_log)}; {todo}"
    )


def stop(paths: EmulatorPaths) -> RunningEmulator | None:
    """Stop the emulator the pid file names (if it runs) and remove the pid file."""
    found = find(paths)
    if found and not processes.stop_process(found.pid):
        raise EmulatorError(f"the emulator (pid {found.pid}) did not stop; kill it with: kill -9 {found.pid}")
    paths.emulator_pid.unlink(missing_ok=True)
    return found


@contextmanager
def temporary(root: Path) -> Iterator[RunningEmulator]:
    """A fresh emulator on a free port, its pid file and log under ``root``; stopped on exit."""
    paths = EmulatorPaths(root)
    running = start(processes.free_port(), paths)
    try:
        yield running
    finally:
        stop(paths)


def ensure_state_bucket(endpoint: str, bucket: str = STATE_BUCKET) -> bool:
    """Create a versioned Terraform state bucket on the emulator; True if it was created now."""
    s3 = clients.client("s3", endpoint)
    if bucket in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        return False
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": clients.REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return True


def serve(host: str, port: int) -> int:
    """Serve the mended moto on ``host:port`` in the foreground until SIGINT/SIGTERM."""
    from workspace import patches  # noqa: PLC0415  (moto loads only in the emulator process)

    patches.apply()
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"error: port {port} on {host} is already in use", file=sys.stderr, flush=True)
            return EXIT_PORT_IN_USE
        raise

    print(f"tap-stack emulator (moto) serving on http://{host}:{port}", flush=True)
    processes.serve_until_stopped(server)
    print("tap-stack emulator stopped", flush=True)
    return 0


def _default_port() -> int:
    raw = os.environ.get("TAP_EMULATOR_PORT", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_EMULATOR_PORT


def _background(port: int) -> int:
    """``make emulator``: start (or reuse) the emulator in the background and create the state bucket."""
    paths = EmulatorPaths(local_dirs()[0])
    existing = find(paths)
    if existing and existing.port == port and answers(port):
        print(f"emulator already running: {existing.endpoint} (pid {existing.pid})")
    elif existing:
        print(
            f"error: an emulator started here already runs on port {existing.port} (pid {existing.pid}).\n"
            "what to do: make local-down (destroys the local stack and stops it), then try again",
            file=sys.stderr,
        )
        return 1
    else:
        try:
            started = time.monotonic()
            existing = start(port, paths)
        except EmulatorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"emulator started: {existing.endpoint} (pid {existing.pid}) in {time.monotonic() - started:.1f} s")
    ensure_state_bucket(existing.endpoint)
    print(f"state bucket:     s3://{STATE_BUCKET}")
    print(f"log:              {shown(paths.emulator_log)}")
    endpoint = "" if port == DEFAULT_EMULATOR_PORT else f" TAP_EMULATOR_ENDPOINT={existing.endpoint}"
    print(f"next:             TAP_ENVIRONMENTS=local{endpoint} npx cdktf deploy local --auto-approve")
    print("                  (make local serves the API for it; make local-down destroys and stops everything)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workspace.emulator", description="The mended moto server.")
    parser.add_argument("--host", default=HOST, help="address to bind (loopback only; default %(default)s)")
    parser.add_argument("--port", type=int, default=_default_port(), help="port (default TAP_EMULATOR_PORT or 4566)")
    parser.add_argument(
        "--background",
        action="store_true",
        help="start detached (pid file in .local/), create the state bucket and return",
    )
    args = parser.parse_args(argv)
    if not is_loopback_host(args.host):
        parser.error("--host must be a loopback address")
    if args.background:
        return _background(args.port)
    return serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
