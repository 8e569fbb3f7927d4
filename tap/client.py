"""One POST to the task API: SigV4-signed through botocore (or not, for the local server),
with ``X-Api-Key``, over a keep-alive connection per thread. Every failure becomes a
``CallFailed`` whose message is one line (docs/cli.md, "Errors and exit status").
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
from dataclasses import KW_ONLY, dataclass
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

#: Answers worth retrying: the request changed nothing, or repeating it is safe.
_TRANSIENT_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
_TRANSIENT_CODES: Final = frozenset({"write_conflict", "claim_contention", "dependency_unavailable"})
_ATTEMPTS: Final = 5
TIMEOUT_SECONDS: Final = 30.0


@dataclass(eq=False)
class CallFailed(Exception):
    """A request that did not get an answer from the task API's handler worth keeping (or, as
    ``TargetError`` and ``ExportStateError``, bad set-up); ``code`` is set when the API refused."""

    message: str
    _: KW_ONLY
    status: int | None = None
    code: str | None = None
    request_id: str | None = None
    transient: bool = False

    def __str__(self) -> str:
        return self.message

    def line(self) -> str:
        """The failure as one line: ``403 invalid_api_key: … (request id …)``."""
        head = " ".join(str(part) for part in (self.status, self.code) if part)
        text = f"{head}: {self}" if head else str(self)
        return f"{text} (request id {self.request_id})" if self.request_id else text


@dataclass(frozen=True)
class Answer:
    """A response of the handler: its status and JSON body."""

    status: int
    body: dict[str, Any]


def http_url(url: str) -> SplitResult:
    """The parts of an http(s) URL with a host; ``CallFailed`` for anything else."""
    try:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname and parts.port != 0:
            return parts
    except ValueError:  # an unclosed [IPv6 host, a port that is not a number in 1-65535
        pass
    raise CallFailed(f"API URL {url!r} is not an http(s) URL")


class ApiClient:
    """Sends actions to one API URL; safe to share between threads. ``signing`` (credentials
    and region) SigV4-signs each request for ``execute-api``; ``None`` sends it unsigned."""

    def __init__(self, url: str, api_key: str, signing: tuple[Credentials, str] | None) -> None:
        self.url = url
        self._parts = http_url(url)
        self._key = api_key
        self._signing = signing
        self._local = threading.local()

    def call(self, payload: dict[str, Any]) -> Answer:
        """POST one action; a non-2xx answer raises ``CallFailed``."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-Api-Key": self._key}
        if self._signing is not None:
            credentials, region = self._signing
            request = AWSRequest(method="POST", url=self.url, data=body, headers=headers)
            SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
            headers = dict(request.headers.items())
        return _answer(*self._post(body, headers))

    def call_with_retries(self, payload: dict[str, Any]) -> Answer:
        """``call``, retrying transient failures with exponential backoff and jitter; only for
        requests that are safe to repeat (reads, creates with a client_token)."""
        for attempt in range(_ATTEMPTS - 1):
            try:
                return self.call(payload)
            except CallFailed as failure:
                if not failure.transient:
                    raise
                time.sleep(min(0.2 * 2**attempt, 5.0) * (0.5 + random.random()))
        return self.call(payload)

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str | None, str | None, bytes]:
        fresh = False
        while True:
            connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
            if connection is None or fresh:
                kind = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
                connection = kind(self._parts.hostname or "", self._parts.port, timeout=TIMEOUT_SECONDS)
                self._local.connection = connection
            try:
                connection.request("POST", self._parts.path or "/", body=body, headers=headers)
                response = connection.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                if fresh:
                    raise CallFailed(f"{self.url} closed the connection", transient=True) from None
                fresh = True  # the server closed an idle keep-alive connection: open a new one
                continue
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                self._local.connection = None
                raise _unreachable(self.url, exc) from None
            return response.status, response.getheader("X-Request-Id"), response.getheader("x-amzn-RequestId"), raw


def _unreachable(url: str, exc: Exception) -> CallFailed:
    if isinstance(exc, ConnectionRefusedError):
        return CallFailed(f"cannot connect to {url}: connection refused (is the API running at this URL?)")
    if isinstance(exc, socket.gaierror):
        return CallFailed(f"cannot resolve the host of {url}: {exc.strerror or exc}")
    if isinstance(exc, TimeoutError):
        return CallFailed(f"{url} did not answer within {TIMEOUT_SECONDS:.0f} s", transient=True)
    if isinstance(exc, ssl.SSLError):
        return CallFailed(f"TLS to {url} failed: {exc.reason or exc}")
    return CallFailed(f"cannot reach {url}: {exc}")


def _answer(status: int, handler_id: str | None, gateway_id: str | None, raw: bytes) -> Answer:
    """The handler's answer, or ``CallFailed``: a 2xx answer without a JSON object and an
    ``X-Request-Id`` header did not come from the task API (a wrong URL); an error without
    the header is API Gateway's own."""
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    request_id = handler_id or gateway_id
    code = None
    if isinstance(body, dict) and handler_id and isinstance(error := body.get("error"), dict):
        code = str(error.get("code") or "error")
        message = str(error.get("message") or "(no message)")
        request_id = str(error.get("request_id") or request_id or "") or None
    elif isinstance(body, dict) and status >= HTTPStatus.BAD_REQUEST:
        # API Gateway's own answers (missing or expired signature, throttling, a wrong path).
        message = f"gateway: {body.get('message') or body.get('Message') or json.dumps(body)[:200]}"
    elif not isinstance(body, dict) or not handler_id:
        excerpt = " ".join(raw[:200].decode("utf-8", "replace").split()) or "(empty body)"
        what = "no X-Request-Id header" if isinstance(body, dict) else "not a JSON object"
        message = f"the URL did not answer like the task API (HTTP {status}, {what}): {excerpt}"
    else:
        return Answer(status, body)
    transient = status in _TRANSIENT_STATUSES or code in _TRANSIENT_CODES
    raise CallFailed(message, status=status, code=code, request_id=request_id, transient=transient)
