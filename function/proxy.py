"""API Gateway REST proxy events in, proxy responses out.

Parsing never raises: a ``Request`` is built for every event, however broken,
because even rejected requests are audited. The checks that can reject a
request before dispatch (405, 413, 401, 400 for the body) are separate
functions so the handler can apply them in the documented order.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import settings as s
from errors import ApiError, bad_request

_SAFE_REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9-]{1,128}$")
JSON_HEADERS: Final = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Request:
    request_id: str
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: bytes
    body_error: str | None  # set when a base64 body does not decode
    identity: dict[str, Any] = field(default_factory=dict)


def parse_event(event: dict[str, Any], context: Any) -> Request:
    context_ids = event.get("requestContext") or {}
    headers: dict[str, str] = {}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if values:
            headers[str(name).lower()] = str(values[-1])
    for name, value in (event.get("headers") or {}).items():
        if value is not None:
            headers[str(name).lower()] = str(value)
    body, body_error = _body(event)
    return Request(
        request_id=_request_id(context_ids.get("requestId"), getattr(context, "aws_request_id", None)),
        method=str(event.get("httpMethod") or ""),
        path=str(event.get("path") or ""),
        headers=headers,
        body=body,
        body_error=body_error,
        identity=dict(context_ids.get("identity") or {}),
    )


def require_post(request: Request) -> None:
    if request.method.upper() != "POST":
        raise ApiError(
            405,
            "method_not_allowed",
            f"method {request.method or '(none)'} is not allowed; use POST",
            {"Allow": "POST"},
        )


def require_size(request: Request) -> None:
    if len(request.body) > s.MAX_BODY_BYTES:
        raise ApiError(
            413,
            "payload_too_large",
            f"request body is {len(request.body)} bytes; the limit is {s.MAX_BODY_BYTES} bytes (256 KB)",
        )


def api_key(request: Request) -> str | None:
    return request.headers.get("x-api-key")


def json_payload(request: Request) -> Any:
    if request.body_error:
        raise bad_request("invalid_json", request.body_error)
    if not request.body.strip():
        raise bad_request("invalid_json", "request body is empty; send a JSON object with an action")
    try:
        return json.loads(request.body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise bad_request("invalid_json", "request body is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise bad_request(
            "invalid_json", f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise bad_request("invalid_json", f"request body is not valid JSON: {exc}") from None


def response(status: int, body: dict[str, Any], request_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, "X-Request-Id": request_id, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        "isBase64Encoded": False,
    }


def _body(event: dict[str, Any]) -> tuple[bytes, str | None]:
    raw = event.get("body")
    if raw is None:
        return b"", None
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if not event.get("isBase64Encoded"):
        return text.encode("utf-8", "surrogatepass"), None
    try:
        return base64.b64decode(text, validate=True), None
    except (binascii.Error, ValueError):
        # Keep the raw text so its size is still checked and it is audited.
        return text.encode("utf-8", "surrogatepass"), "request body is marked base64 but is not valid base64"


def _request_id(api_gateway_id: Any, lambda_id: Any) -> str:
    """API Gateway's id first: it is what the client sees (x-amzn-RequestId)
    and it names the audit object, so it must be safe in an S3 key."""
    for candidate in (api_gateway_id, lambda_id):
        if isinstance(candidate, str) and _SAFE_REQUEST_ID.match(candidate):
            return candidate
    return str(uuid.uuid4())


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
