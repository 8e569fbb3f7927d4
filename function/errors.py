"""Errors as data: every failure the client can see is an ``ApiError``.

Code anywhere in the request path raises an ``ApiError`` with the HTTP status,
a stable machine-readable ``code`` and a message that names the offending field
and limit. The handler turns it into the one error body shape. Anything else is
an internal error and is reported as a generic 500 (details go to the log only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

# AWS error codes that mean "the dependency is overloaded or down" rather than
# "our request was wrong". botocore's standard retry mode already retried them;
# when they still surface the caller gets a 503 and may retry later.
_UNAVAILABLE_CODES = frozenset(
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


@dataclass(eq=False)
class ApiError(Exception):
    """A client-visible failure: HTTP status, stable code, precise message.

    Not frozen: the interpreter and pytest assign ``__traceback__`` on raise.
    """

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self, request_id: str) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "request_id": request_id}}


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def invalid_field(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_field", f"{name} {message}")


def not_found(code: str, message: str) -> ApiError:
    return ApiError(404, code, message)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def internal_error() -> ApiError:
    return ApiError(500, "internal_error", "internal error")


def dependency_unavailable() -> ApiError:
    return ApiError(
        503, "dependency_unavailable", "a backing service is unavailable after retries; retry the request later"
    )


def from_aws_error(exc: Exception) -> ApiError | None:
    """Classify a botocore failure: a 503 for outages and throttling after
    botocore's own retries, ``None`` for everything else (a bug, so a 500)."""
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return dependency_unavailable()
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if error.get("Code") in _UNAVAILABLE_CODES or status >= 500:
            return dependency_unavailable()
    return None
