"""Serve the Lambda handler over HTTP the way API Gateway's REST proxy integration does.

Each request to ``/lambda`` becomes a REST API (v1) proxy event and goes to the real
``function/lambda_function.lambda_handler``, called in this process; its proxy response
becomes the HTTP response. Other paths answer 404 with a JSON body. The handler runs with
the environment the emulator reports for the deployed function, plus the emulator's
endpoint and dummy credentials, so its boto3 clients talk to the emulator.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.paths import PROJECT

RESOURCE = "/lambda"
FUNCTION_DIR = PROJECT / "function"
#: API Gateway's own payload limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024

Handler = Callable[[dict[str, Any], Any], Any]


# --------------------------------------------------------------------------------------
# The handler and its environment
# --------------------------------------------------------------------------------------


def handler_environment(function_env: Mapping[str, str], endpoint: str, region: str = "us-west-2") -> dict[str, str]:
    """The deployed function's variables plus what makes its boto3 talk to the emulator."""
    env = dict(function_env)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
    )
    return env


def load_handler(function_dir: Path = FUNCTION_DIR, environ: Mapping[str, str] | None = None) -> Handler:
    """Import ``lambda_function.lambda_handler`` from ``function_dir`` after setting ``environ``.

    The variables go into ``os.environ`` first because a Lambda module may read them (and
    create its clients) at import time, as it would on a cold start.
    """
    if environ:
        os.environ.update(environ)
    path = function_dir / "lambda_function.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    # The package's sibling modules import each other by plain name, as in the Lambda runtime.
    if str(function_dir) not in sys.path:
        sys.path.insert(0, str(function_dir))
    spec = importlib.util.spec_from_file_location("lambda_function", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["lambda_function"] = module
    spec.loader.exec_module(module)
    handler: Handler = module.lambda_handler
    return handler


@dataclass
class LambdaContext:
    """The parts of the Lambda context object a handler uses."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    invoked_function_arn: str = ""
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --------------------------------------------------------------------------------------
# Event and response mapping
# --------------------------------------------------------------------------------------


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's pair of maps: the last value of each name, and every value in order."""
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


@dataclass(frozen=True)
class ProxyRequest:
    """One HTTP request as the proxy integration sees it."""

    method: str
    raw_path: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


def make_event(request: ProxyRequest, stage: str, request_id: str) -> dict[str, Any]:
    """A REST API proxy event (payload format 1.0) for one HTTP request."""
    method, headers, body = request.method, request.headers, request.body
    parts = urlsplit(request.raw_path)
    query, multi_query = _single_and_multi(parse_qsl(parts.query, keep_blank_values=True))
    single_headers, multi_headers = _single_and_multi(headers)
    if body:
        try:
            text: str | None = body.decode("utf-8")
            is_b64 = False
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode("ascii"), True
    else:
        text, is_b64 = None, False
    user_agent = (single_headers or {}).get("User-Agent") or next(
        (v for k, v in headers if k.lower() == "user-agent"), None
    )
    now = time.time()
    return {
        "resource": RESOURCE,
        "path": parts.path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": None,
        "stageVariables": None,
        "body": text,
        "isBase64Encoded": is_b64,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": RESOURCE,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "path": f"/{stage}{parts.path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "127",
            "domainName": "127.0.0.1",
            "apiId": "local",
            "requestId": request_id,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
                "accountId": None,
                "apiKey": None,
                "caller": None,
                "user": None,
                "userArn": None,
            },
        },
    }


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _json_response(status: int, payload: Any, request_id: str) -> HttpResponse:
    body = json.dumps(payload).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], body)


def to_http_response(result: Any, request_id: str) -> HttpResponse:
    """Map a proxy integration result to HTTP; a malformed one is a 502, as on API Gateway."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return _json_response(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"}, request_id)
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((name, str(value)))
        seen.add(name.lower())
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = str(raw).encode("utf-8")
    headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(result["statusCode"], headers, body)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


@dataclass
class ApiSettings:
    handler: Handler
    function_name: str
    timeout_seconds: float = 15.0
    memory_mb: int = 256
    stage: str = "local"
    quiet: bool = False
    log: Any = field(default=sys.stdout)


def invoke(settings: ApiSettings, event: dict[str, Any], request_id: str) -> HttpResponse:
    """Call the handler as Lambda would; an exception is a 502 like an unhandled Lambda error."""
    context = LambdaContext(
        function_name=settings.function_name,
        timeout_seconds=settings.timeout_seconds,
        memory_limit_in_mb=settings.memory_mb,
        aws_request_id=request_id,
    )
    try:
        result = settings.handler(event, context)
    except Exception:  # the handler's own bug: show it, as CloudWatch Logs would
        traceback.print_exc(file=sys.stderr)
        return _json_response(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"}, request_id)
    return to_http_response(result, request_id)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers
    disable_nagle_algorithm = True
    server_version = "tap-local-api"
    sys_version = ""

    server: ApiServer

    def version_string(self) -> str:
        return self.server_version

    def _handle(self) -> None:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        settings = self.server.settings
        path = urlsplit(self.path).path
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            response = _json_response(
                HTTPStatus.LENGTH_REQUIRED, {"message": "Length Required: send a Content-Length"}, request_id
            )
        elif length_header is not None and (not length_header.isdigit() or int(length_header) > MAX_REQUEST_BYTES):
            self.close_connection = True
            response = _json_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Too Long"}, request_id)
        else:
            body = self.rfile.read(int(length_header)) if length_header else b""
            if path != RESOURCE:
                response = _json_response(HTTPStatus.NOT_FOUND, {"message": "Not Found", "path": path}, request_id)
            else:
                request = ProxyRequest(
                    self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                )
                event = make_event(request, settings.stage, request_id)
                response = invoke(settings, event, request_id)
        self._write(response)
        if not settings.quiet:
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"{self.client_address[0]} {self.command} {self.path} -> {response.status} in {elapsed:.1f} ms",
                file=settings.log,
                flush=True,
            )

    def _write(self, response: HttpResponse) -> None:
        """Head and body in one write: as two small segments, Nagle's algorithm and the
        client's delayed ACK would hold the body back ~40 ms on every keep-alive request."""
        reason = self.responses.get(response.status, ("",))[0]
        head = [
            f"{self.protocol_version} {response.status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        head += [
            f"{name}: {value}"
            for name, value in response.headers
            if name.lower() not in ("content-length", "connection", "transfer-encoding")
        ]
        head.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(data if self.command == "HEAD" else data + response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """Requests are logged by ``_handle`` in one line; the stdlib still logs errors."""


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], settings: ApiSettings) -> None:
        self.settings = settings
        super().__init__(address, _RequestHandler)


def start_in_thread(server: ApiServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="tap-local-api", daemon=True)
    thread.start()
    return thread
