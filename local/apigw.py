"""API Gateway's REST proxy integration as the handler sees it, for everything that calls the
real handler without API Gateway (the local API server, the tests, the benchmarks): the
proxy event (payload format 1.0) for one HTTP request, the Lambda context object, and the
HTTP response API Gateway makes of a proxy result.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

RESOURCE = "/lambda"


@dataclass
class LambdaContext:
    """The Lambda context object as a handler reads it (Powertools' fields included); the
    defaults stand for a test container, the local server passes each request's own."""

    function_name: str = "tap-task-api-test"
    timeout_seconds: float = 15.0
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"
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
    """One HTTP request as the proxy integration sees it. ``binary``: the body is one of the
    API's binary media types, so the event carries it base64-encoded even when it is text."""

    method: str
    raw_path: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    binary: bool = False


def make_event(request: ProxyRequest, stage: str, request_id: str) -> dict[str, Any]:
    """A REST API proxy event (payload format 1.0) for one HTTP request; a binary body, or one
    that is not UTF-8, is carried base64-encoded."""
    method, headers, body = request.method, request.headers, request.body
    parts = urlsplit(request.raw_path)
    query, multi_query = _single_and_multi(parse_qsl(parts.query, keep_blank_values=True))
    single_headers, multi_headers = _single_and_multi(headers)
    text: str | None = None
    if body and not request.binary:
        with contextlib.suppress(UnicodeDecodeError):  # not text: base64-encoded below
            text = body.decode("utf-8")
    is_b64 = bool(body) and text is None
    if is_b64:
        text = base64.b64encode(body).decode("ascii")
    user_agent = next((v for k, v in reversed(headers) if k.lower() == "user-agent"), None)
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
                **dict.fromkeys(("accountId", "apiKey", "caller", "user", "userArn")),  # no IAM caller, no usage plan
            },
        },
    }


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_response(status: int, payload: Any, request_id: str) -> HttpResponse:
    body = json.dumps(payload).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], body)


def to_http_response(result: Any, request_id: str) -> HttpResponse:
    """Map a proxy integration result to HTTP; a malformed one is a 502, as on API Gateway."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return json_response(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"}, request_id)
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
