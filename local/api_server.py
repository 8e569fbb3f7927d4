"""Serve the Lambda handler over HTTP the way API Gateway's REST proxy integration does.

Each request to ``/lambda`` becomes a REST API (v1) proxy event and goes to the real
``function.handler.lambda_handler``, called in this process; its proxy response
becomes the HTTP response. Other paths answer 404 with a JSON body. The handler runs with
the environment the emulator reports for the deployed function, plus the emulator's
endpoint and dummy credentials, so its boto3 clients talk to the emulator.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.apigw import RESOURCE, HttpResponse, LambdaContext, ProxyRequest, json_response, make_event, to_http_response
from workspace.clients import DUMMY_CREDENTIALS, REGION

#: API Gateway's own payload limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024

Handler = Callable[[dict[str, Any], Any], Any]


def handler_environment(function_env: Mapping[str, str], endpoint: str) -> dict[str, str]:
    """The deployed function's variables plus what makes its boto3 talk to the emulator."""
    env = {**function_env, "AWS_ENDPOINT_URL": endpoint, **DUMMY_CREDENTIALS}
    return {**env, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}


def load_handler(environ: Mapping[str, str]) -> Handler:
    """The real ``function.handler.lambda_handler``, imported after ``environ`` is set in ``os.environ``
    (a Lambda module may read its variables, and create its clients, at import time: a cold start)."""
    os.environ.update(environ)
    from function.handler import lambda_handler  # noqa: PLC0415 - after the environment is set

    return lambda_handler


@dataclass
class ApiSettings:
    handler: Handler
    #: The deployed function as the handler sees it; each request gets a copy with its own id and deadline.
    context: LambdaContext = field(default_factory=LambdaContext)
    stage: str = "local"
    quiet: bool = False


def invoke(settings: ApiSettings, event: dict[str, Any], request_id: str) -> HttpResponse:
    """Call the handler as Lambda would; an exception is a 502 like an unhandled Lambda error."""
    try:
        result = settings.handler(event, replace(settings.context, aws_request_id=request_id))
    except Exception:  # the handler's own bug: show it, as CloudWatch Logs would
        traceback.print_exc(file=sys.stderr)
        return json_response(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"}, request_id)
    return to_http_response(result, request_id)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered, so that a response's head and body leave in one write
    server_version = "tap-local-api"

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
            response = json_response(
                HTTPStatus.LENGTH_REQUIRED, {"message": "Length Required: send a Content-Length"}, request_id
            )
        elif length_header is not None and (not length_header.isdigit() or int(length_header) > MAX_REQUEST_BYTES):
            self.close_connection = True
            response = json_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Too Long"}, request_id)
        else:
            body = self.rfile.read(int(length_header)) if length_header else b""
            if path != RESOURCE:
                response = json_response(HTTPStatus.NOT_FOUND, {"message": "Not Found", "path": path}, request_id)
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
                flush=True,
            )

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        self.wfile.flush()

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
