"""Audit trail: one JSON object per request in S3, written before we return (docs/api.md,
"Audit"), the API key redacted. If the S3 write fails the record is logged as one line marked
``audit_fallback`` and the client still gets its answer.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from function.auth import fingerprint
from function.contract import AUDIT_PREFIX, LOG_BUCKET_ENV
from function.logs import dumps, logger
from function.proxy import Request

REDACTED: Final = "[REDACTED]"
_SECRET_HEADERS: Final = frozenset({"x-api-key", "authorization"})
_SECRET_IDENTITY: Final = frozenset({"apiKey"})
_MAX_RAW_BODY_CHARS: Final = 4_096  # bodies that are not JSON are kept only in part


def object_key(received_at: datetime, request_id: str) -> str:
    return f"{AUDIT_PREFIX}{received_at:%Y/%m/%d/%H}/{request_id}.json"


def record(
    request: Request, received_at: datetime, response: dict[str, Any], latency_ms: float, parsed: tuple[str | None, Any]
) -> dict[str, Any]:
    """``parsed`` is (action, payload); payload None keeps a bounded excerpt of the raw
    body instead. When the record cannot be built, what is certain about the request:
    no headers, identity or body, only where it came from and what it got."""
    received = received_at.isoformat().replace("+00:00", "Z")
    action, payload = parsed
    try:
        presented = request.headers.get("x-api-key")
        identity = {k: (REDACTED if k in _SECRET_IDENTITY and v else v) for k, v in request.identity.items()}
        body: dict[str, Any] = {"bytes": len(request.body)}
        if payload is not None:
            body["json"] = payload
        elif request.body:
            body["raw_excerpt"] = request.body[:_MAX_RAW_BODY_CHARS].decode("utf-8", "replace")
        return {
            "request_id": request.request_id,
            "received_at": received,
            "action": action,
            "status": response["statusCode"],
            "latency_ms": round(latency_ms, 3),
            "caller": {
                "source_ip": request.identity.get("sourceIp"),
                "api_key_fingerprint": fingerprint(presented) if presented else None,
                "identity": identity,
            },
            "request": {
                "method": request.method,
                "path": request.path,
                "headers": {k: (REDACTED if k in _SECRET_HEADERS else v) for k, v in request.headers.items()},
                "body": body,
            },
            "response": {
                "status_code": response["statusCode"],
                "headers": response["headers"],
                "body": json.loads(response["body"]),
            },
        }
    except Exception as error:  # keep what is certain about the request
        return {
            "request_id": request.request_id,
            "received_at": received,
            "status": response.get("statusCode"),
            "latency_ms": round(latency_ms, 3),
            "record_error": f"{type(error).__name__}: the full record could not be built",
            "request": {"method": request.method, "path": request.path, "body": {"bytes": len(request.body)}},
            "response": {"status_code": response.get("statusCode"), "body": response.get("body")},
        }


def store(client: Any, bucket: str, key: str, record: dict[str, Any]) -> bool:
    """True when stored in S3; False when the record went to the log instead (a log
    write never raises). ``client`` is None when the container failed to start."""
    try:
        if client is None:
            raise RuntimeError("no S3 client: the container failed to start")
        if not bucket:
            raise RuntimeError(f"{LOG_BUCKET_ENV} is not set")
        client.put_object(Bucket=bucket, Key=key, Body=dumps(record).encode("utf-8"), ContentType="application/json")
        return True
    except Exception as exc:  # any failure must fall back, never fail the request
        logger.error(
            "audit write failed; record logged instead",
            extra={"audit_fallback": True, "audit_key": key, "error": f"{type(exc).__name__}: {exc}", "record": record},
        )
        return False
