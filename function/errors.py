"""The catalogue of client-visible failures: ``STATUS`` maps every stable error code to
its HTTP status, and each code has one constructor, so the request path raises
``errors.task_not_found(task_id)`` rather than assembling statuses and codes. Any other
exception is a generic 500 (details in the log only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

STATUS: Final[dict[str, int]] = {
    "invalid_json": 400,
    "invalid_request": 400,
    "missing_field": 400,
    "unknown_action": 400,
    "unknown_field": 400,
    "invalid_field": 400,
    "missing_api_key": 401,
    "invalid_api_key": 403,
    "task_not_found": 404,
    "no_task_available": 404,
    "method_not_allowed": 405,
    "task_assigned": 409,
    "task_not_claimed": 409,
    "task_completed": 409,
    "idempotency_conflict": 409,
    "claim_contention": 409,
    "write_conflict": 409,
    "payload_too_large": 413,
    "internal_error": 500,
    "dependency_unavailable": 503,
}

# AWS error codes that mean "the dependency is overloaded or down" rather than
# "our request was wrong". botocore's standard retry mode already retried them;
# when they still surface the caller gets a 503 and may retry later.
_UNAVAILABLE_CODES: Final = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
        "ThrottledException",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "TransactionInProgressException",
    }
)
_MAX_QUOTED_CHARS: Final = 64  # client text quoted back in a message is cut to this


@dataclass(eq=False)  # not frozen: raising assigns __traceback__
class ApiError(Exception):
    """A client-visible failure: HTTP status, stable code, precise message."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self, request_id: str) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "request_id": request_id}}


def _error(code: str, message: str, headers: dict[str, str] | None = None) -> ApiError:
    return ApiError(STATUS[code], code, message, dict(headers or {}))


def quoted(value: Any) -> str:
    """Client input as it may appear in a message: ``repr`` (so control and
    surrogate characters come out escaped), cut to a bounded length."""
    text = repr(value)
    return text if len(text) <= _MAX_QUOTED_CHARS else text[:_MAX_QUOTED_CHARS] + "..."


# -- 400: the request itself ---------------------------------------------------


def invalid_json(message: str) -> ApiError:
    return _error("invalid_json", message)


def invalid_request(message: str) -> ApiError:
    return _error("invalid_request", message)


def missing_field(name: str, hint: str = "") -> ApiError:
    return _error("missing_field", f"{name} is required{hint}")


def unknown_action(action: Any, expected: Iterable[str]) -> ApiError:
    return _error("unknown_action", f"unknown action {quoted(action)}; expected one of {', '.join(expected)}")


def unknown_field(where: str, unknown: Iterable[str], allowed: Iterable[str]) -> ApiError:
    names = ", ".join(quoted(name)[1:-1] for name in unknown)
    return _error("unknown_field", f"unknown field(s) in {where}: {names}; allowed: {', '.join(allowed)}")


def invalid_field(name: str, message: str) -> ApiError:
    return _error("invalid_field", f"{name} {message}")


def payload_too_large(size: int, limit: int) -> ApiError:
    return _error("payload_too_large", f"request body is {size} bytes; the limit is {limit} bytes (256 KB)")


def method_not_allowed(method: str) -> ApiError:
    shown = quoted(method)[1:-1] if method else "(none)"
    return _error("method_not_allowed", f"method {shown} is not allowed; use POST", {"Allow": "POST"})


# -- 401/403: the key ----------------------------------------------------------


def missing_api_key() -> ApiError:
    return _error("missing_api_key", "missing X-Api-Key header")


def invalid_api_key() -> ApiError:
    return _error("invalid_api_key", "the X-Api-Key header is not a valid API key")


# -- 404/409: the task's state -------------------------------------------------


def task_not_found(task_id: str) -> ApiError:
    return _error("task_not_found", f"task {task_id} does not exist")


def no_task_available() -> ApiError:
    return _error("no_task_available", "no task is available to claim: none pending and no expired lease")


def task_completed(task_id: str, verb: str) -> ApiError:
    return _error("task_completed", f"cannot {verb} task {task_id}: it is already completed")


def task_assigned(task_id: str, verb: str, until: Any) -> ApiError:
    return _error("task_assigned", f"cannot {verb} task {task_id}: it is claimed by another annotator until {until}")


def task_not_claimed(task_id: str, verb: str) -> ApiError:
    return _error("task_not_claimed", f"cannot {verb} task {task_id}: it is not claimed; claim it first")


def idempotency_conflict() -> ApiError:
    return _error("idempotency_conflict", "client_token was already used with a different task; use a new client_token")


def claim_contention(tried: int) -> ApiError:
    return _error("claim_contention", f"other annotators claimed the {tried} tasks tried first; retry the claim")


def write_conflict(message: str) -> ApiError:
    return _error("write_conflict", f"{message}; retry the request")


# -- 5xx -----------------------------------------------------------------------


def internal_error() -> ApiError:
    return _error("internal_error", "internal error")


def dependency_unavailable() -> ApiError:
    return _error("dependency_unavailable", "a backing service is unavailable after retries; retry the request later")


def from_aws_error(exc: BaseException) -> ApiError | None:
    """A 503 for outages and throttling that outlasted botocore's retries, else None (a 500)."""
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return dependency_unavailable()
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if error.get("Code") in _UNAVAILABLE_CODES or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return dependency_unavailable()
    return None
