"""Fixtures for the ``tap`` tests: the real handler on moto, served over real HTTP on
127.0.0.1; a server that is not the task API; ``tap.cli.main`` run in process.

The glue that imports the handler and builds its moto resources is the ``handler`` fixture
alone, so a change to how the handler is imported is made there.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

import boto3
import pytest
from moto import mock_aws

from function import contract
from function import handler as task_handler
from local.api_server import ApiServer, ApiSettings, Handler
from tap.cli import main
from testkit.serving import start_in_thread
from tests.function.table_from_stack import REFERENCE_TABLE, create_table_kwargs

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "tap-cli-test-key-5d1e"


@pytest.fixture(scope="module")
def handler() -> Iterator[Handler]:
    """``function.handler.lambda_handler`` with its table, bucket and key secret on moto."""
    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name, value in {"DYNAMODB_TABLE": "tap-cli-tasks", "LOG_BUCKET": "tap-cli-audit",
                            "API_KEY_SECRET": "tap-cli/api-keys"}.items():  # fmt: skip
            env.setenv(name, value)
        assert set(contract.ENVIRONMENT) <= set(os.environ)
        table = create_table_kwargs(REFERENCE_TABLE, os.environ[contract.TABLE_ENV])
        boto3.client("dynamodb").create_table(**table)
        boto3.client("s3").create_bucket(Bucket=os.environ[contract.LOG_BUCKET_ENV])
        boto3.client("secretsmanager").create_secret(
            Name=os.environ[contract.API_KEY_SECRET_ENV], SecretString=json.dumps({"api_keys": [API_KEY]})
        )
        task_handler.reset_caches()
        yield task_handler.lambda_handler
        task_handler.reset_caches()


@dataclass
class Served:
    """The real handler behind real HTTP; ``latency`` slows each request (seconds);
    ``requests`` counts those that reached the handler (before it answers)."""

    url: str
    key: str
    latency: float = 0.0
    requests: int = 0


@pytest.fixture(scope="module")
def served(handler: Handler) -> Iterator[Served]:
    served = Served("", API_KEY)

    def slowed(event: dict[str, Any], context: Any) -> Any:
        served.requests += 1
        time.sleep(served.latency)
        return handler(event, context)

    server = ApiServer(("127.0.0.1", 0), ApiSettings(slowed, quiet=True))
    start_in_thread(server)
    served.url = f"http://127.0.0.1:{server.server_address[1]}/lambda"
    warm = tap_in_process("--url", served.url, f"--api-key={API_KEY}", "list")  # builds the handler's clients
    assert warm.status == 0, warm.err
    yield served
    served.latency = 0.0
    server.shutdown()
    server.server_close()


class _Foreign(BaseHTTPRequestHandler):
    """Any POST: 200 with the body the path names (HTML, or JSON without X-Request-Id)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        html = self.path.endswith("/html")
        body = b"<html>\n<body>It works!</body>\n</html>\n" if html else b'{"tasks": [], "ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if html else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def foreign() -> Iterator[str]:
    """The base URL of an HTTP server that answers, but not as the task API (``/html``, ``/json``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Foreign)
    threading.Thread(target=server.serve_forever, name="foreign-api", daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def outside_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As an installed ``tap`` meets the world: in a folder outside the checkout, no TAP_* set."""
    for name in ("TAP_API_URL", "TAP_API_KEY", "TAP_STACK", "TAP_LOCAL_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@dataclass
class Run:
    status: int
    out: str
    err: str

    def line(self) -> str:
        """The only stderr line (and no traceback)."""
        assert "Traceback" not in self.err
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        return lines[0]

    def json(self) -> Any:
        return json.loads(self.out)


class _ThisThread(io.StringIO):
    """Keeps what the calling thread writes; other threads' writes (the served handler's
    log lines) go on to ``passthrough``."""

    def __init__(self, passthrough: TextIO) -> None:
        super().__init__()
        self._owner = threading.get_ident()
        self._passthrough = passthrough

    def write(self, text: str) -> int:
        if threading.get_ident() == self._owner:
            return super().write(text)
        return self._passthrough.write(text)


def tap_in_process(*argv: str) -> Run:
    """``tap ARGV`` through ``tap.cli.main``, its stdout and stderr captured."""
    saved = sys.stdout, sys.stderr
    out, err = _ThisThread(saved[0]), _ThisThread(saved[1])
    sys.stdout, sys.stderr = out, err
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors and --help
        status = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdout, sys.stderr = saved
    return Run(status, out.getvalue(), err.getvalue())


@pytest.fixture
def tap() -> Callable[..., Run]:
    return tap_in_process


@pytest.fixture
def api(served: Served, tap: Callable[..., Run]) -> Callable[..., Run]:
    """``tap --url URL --api-key=KEY ARGV`` against the served handler."""
    return lambda *argv: tap("--url", served.url, f"--api-key={served.key}", *argv)
