"""API Gateway REST proxy events in, proxy responses out.

Parsing never raises: even a broken event yields a ``Request``, because rejected requests
are audited too. ``json_payload`` applies the body's input rules (docs/api.md, "Input rules").
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from function import errors
from function import settings as s

_SAFE_REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9-]{1,128}$")
# One JSON token a nesting scan cares about: a whole string (possibly
# unterminated) or a structural character. Numbers and literals are skipped.
_TOKEN: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{},:]', re.DOTALL)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_FIELD_NAME_CHARS: Final = 200


@dataclass(frozen=True)
class Request:
    request_id: str
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: bytes
    body_error: str | None  # set when a base64 body does not decode
    identity: dict[str, Any] = field(default_factory=dict)


def parse_event(event: Any, context: Any) -> Request:
    """Whatever the event holds: fields of the wrong type count as absent."""
    event = event if isinstance(event, Mapping) else {}
    context_ids = _mapping(event.get("requestContext"))
    headers: dict[str, str] = {}
    for name, values in _mapping(event.get("multiValueHeaders")).items():
        last = values[-1] if isinstance(values, (list, tuple)) and values else values
        if last is not None and last != []:
            headers[_text(name).lower()] = _text(last)
    for name, value in _mapping(event.get("headers")).items():
        if value is not None:
            headers[_text(name).lower()] = _text(value)
    body, body_error = _body(event)
    return Request(
        request_id=_request_id(context_ids.get("requestId"), getattr(context, "aws_request_id", None)),
        method=_text(event.get("httpMethod") or ""),
        path=_text(event.get("path") or ""),
        headers=headers,
        body=body,
        body_error=body_error,
        identity=dict(_mapping(context_ids.get("identity"))),
    )


def bare_request(context: Any) -> Request:
    """The request to answer and audit when even ``parse_event`` failed."""
    return Request(_request_id(None, getattr(context, "aws_request_id", None)), "", "", {}, b"", None)


def json_payload(request: Request) -> Any:
    """The parsed body, after the input rules: UTF-8, at most
    ``MAX_NESTING_DEPTH`` levels (checked before parsing), no duplicate keys,
    no lone surrogate escapes."""
    if request.body_error:
        raise errors.invalid_json(request.body_error)
    if not request.body.strip():
        raise errors.invalid_json("request body is empty; send a JSON object with an action")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.invalid_json("request body is not valid UTF-8") from None
    too_deep = _too_deep(text)
    if too_deep is not None:
        raise errors.invalid_field(
            _field_name(too_deep),
            f"is nested too deeply: a request body may nest objects and arrays at most {s.MAX_NESTING_DEPTH} levels",
        )
    try:
        payload = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise errors.invalid_json(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise errors.invalid_json(f"request body is not valid JSON: {exc}") from None
    if "\\u" in text:  # only an escape can produce a lone surrogate in valid UTF-8
        bad = _lone_surrogate(payload)
        if bad is not None:
            raise errors.invalid_field(
                _field_name(bad), "must be valid Unicode: it contains a lone surrogate escape (\\ud800-\\udfff)"
            )
    return payload


def response(status: int, body: str, request_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "X-Request-Id": request_id, **headers},
        "body": body,
        "isBase64Encoded": False,
    }


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    """A header name or value as text. Bytes that are not UTF-8 keep their
    bad bytes as lone surrogates, so they can never match a key."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


def _body(event: Mapping[str, Any]) -> tuple[bytes, str | None]:
    raw = event.get("body")
    if raw is None:
        return b"", None
    text = _text(raw)
    if not isinstance(raw, (str, bytes, bytearray)):
        return text.encode("utf-8", "surrogatepass"), "request body must be a string in the event"
    if not event.get("isBase64Encoded"):
        return text.encode("utf-8", "surrogatepass"), None
    try:
        return base64.b64decode(text, validate=True), None
    except (binascii.Error, ValueError):
        # Keep the raw text so its size is still checked and it is audited.
        return text.encode("utf-8", "surrogatepass"), "request body is marked base64 but is not valid base64"


def _too_deep(text: str) -> list[str | int] | None:
    """The path to the first object or array nested deeper than the limit,
    found by a scan that needs no recursion (so it works at any depth)."""
    if text.count("[") + text.count("{") <= s.MAX_NESTING_DEPTH:
        return None
    path: list[str | int] = []  # per open container: the current key (object) or index (array)
    last = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        char = token[0]
        if char == '"':
            last = token
        elif char in "[{":
            if len(path) >= s.MAX_NESTING_DEPTH:
                return path
            path.append(0 if char == "[" else "")
        elif char in "]}":
            if path:
                path.pop()
        elif char == ":" and path and isinstance(path[-1], str):
            path[-1] = _key_text(last)
        elif char == "," and path and isinstance(path[-1], int):
            path[-1] += 1
    return None


def _key_text(token: str) -> str:
    try:
        key = json.loads(token)
    except ValueError:
        return token.strip('"')
    return key if isinstance(key, str) else token


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise errors.invalid_json(f"request body has the key {errors.quoted(key)} twice in one object")
            seen.add(key)
    return result


def _lone_surrogate(payload: Any) -> list[str | int] | None:
    """The path of the first string or key holding a lone surrogate."""
    pending: list[tuple[Any, list[str | int]]] = [(payload, [])]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if _SURROGATE.search(key):
                    return [*path, key]
                pending.append((item, [*path, key]))
        elif isinstance(value, list):
            pending.extend((item, [*path, i]) for i, item in reversed(list(enumerate(value))))
    return None


def _field_name(path: list[str | int]) -> str:
    """``task.metadata.a[0]``; keys that are not identifiers are quoted."""
    name = "request body" if path and isinstance(path[0], int) else ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            name += f".{part}" if name else part
        else:
            name += f"[{errors.quoted(part)}]"
    name = name or "request body"
    return name if len(name) <= _MAX_FIELD_NAME_CHARS else name[:_MAX_FIELD_NAME_CHARS] + "..."


def _request_id(api_gateway_id: Any, lambda_id: Any) -> str:
    """API Gateway's id first: it is what the client sees (x-amzn-RequestId)
    and it names the audit object, so it must be safe in an S3 key."""
    for candidate in (api_gateway_id, lambda_id):
        if isinstance(candidate, str) and _SAFE_REQUEST_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
