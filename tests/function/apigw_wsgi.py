"""A WSGI app that stands where API Gateway stands: each HTTP request becomes an
API Gateway REST proxy event for the real handler, and its proxy response
becomes the HTTP response. In process, no ports: Schemathesis drives it
through werkzeug's test client.

Of API Gateway's own checks it keeps the one Schemathesis can observe: a
request without an ``Authorization`` header (SigV4) is refused with API
Gateway's 403 before the function runs. Signatures are not verified (no AWS
account). Any method reaches the function, as through the local server, so the
function's 405 is what answers methods other than POST.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from local.apigw import LambdaContext, ProxyRequest, make_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
SPEC_PATH = "/openapi.yaml"
_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}  # fmt: skip


class ApiGatewayProxy:
    def __init__(self, handler: Handler, spec: Path) -> None:
        self._handler = handler
        self._spec = spec.read_bytes()
        self.events: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        if path == SPEC_PATH and method == "GET":
            return _reply(start_response, 200, {"Content-Type": "application/yaml"}, self._spec)
        headers = _headers(environ)
        path = _without_stage(path)
        if path != "/lambda" or (method == "POST" and "authorization" not in {k.lower() for k in headers}):
            body = json.dumps({"message": "Missing Authentication Token"}).encode()
            return _reply(start_response, 403, {"Content-Type": "application/json"}, body)
        event = self.event(method, path, headers, environ)
        self.events.append(event)
        result = self._handler(event, LambdaContext())
        raw = result["body"] or ""
        out = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        return _reply(start_response, result["statusCode"], result.get("headers") or {}, out)

    @staticmethod
    def event(method: str, path: str, headers: dict[str, list[str]], environ: dict[str, Any]) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = environ.get("QUERY_STRING", "")
        pairs = [(name, value) for name, values in headers.items() for value in values]
        request = ProxyRequest(method, f"{path}?{query}" if query else path, pairs, body, "127.0.0.1")
        return make_event(request, "contract", str(uuid.uuid4()))


def _without_stage(path: str) -> str:
    """``/prod/lambda`` -> ``/lambda``: the event's ``path`` is the resource
    path, without the stage of the server URL."""
    parts = path.strip("/").split("/")
    return "/" + parts[-1] if len(parts) == 2 else path  # stage and resource


def _headers(environ: dict[str, Any]) -> dict[str, list[str]]:
    """HTTP headers by their usual names; WSGI hands them over as latin-1."""
    headers: dict[str, list[str]] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = "-".join(part.capitalize() for part in key[5:].split("_"))
        elif key in {"CONTENT_TYPE", "CONTENT_LENGTH"} and value:
            name = "-".join(part.capitalize() for part in key.split("_"))
        else:
            continue
        text = value.encode("latin-1").decode("utf-8", "surrogateescape")
        headers.setdefault(name, []).append(text)
    return headers


def _reply(start_response: StartResponse, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
    start_response(f"{status} {_REASONS.get(status, 'Status')}", [*headers.items(), ("Content-Length", str(len(body)))])
    return [body]
