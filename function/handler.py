"""Lambda entry point of the TAP task API (``lambda_function.lambda_handler``).

The guarantee (docs/api.md): whatever the event, a proxy response of ours, the audit
record (or its fallback log line) and one request log line. Each stage -- parsing the
event, building the container's clients, the request, the response, the audit, the log
line -- has its own fallback, so a failure in one still lets the others run.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final, assert_never

import botocore.session
from botocore.config import Config

from function import audit, errors, metrics, model, proxy
from function import settings as s
from function import validation as v
from function.auth import ApiKeyStore
from function.commands import ClaimTask, Command, CreateTask, GetTask, ListTasks, ReleaseTask, SubmitFeedback
from function.logs import dumps, logger
from function.tasks import TaskRepository

_CLIENT_CONFIG: Final = Config(
    connect_timeout=s.AWS_CONNECT_TIMEOUT_SECONDS,
    read_timeout=s.AWS_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": s.AWS_MAX_ATTEMPTS},
)
# What the client gets when even building the response failed: no request data in it.
_LAST_RESORT_BODY: Final = '{"error":{"code":"internal_error","message":"internal error","request_id":"%s"}}'


@dataclass(frozen=True)
class Outcome:
    """What one request produced, for the response, the audit and the log."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    payload: Any = None
    error_code: str | None = None
    exception: str | None = None

    @classmethod
    def failure(
        cls, error: errors.ApiError, request_id: str, action: str | None, payload: Any, exception: str | None = None
    ) -> Outcome:
        return cls(error.status, error.body(request_id), dict(error.headers), action, payload, error.code, exception)

    @classmethod
    def crash(cls, exc: BaseException, request_id: str, action: str | None = None, payload: Any = None) -> Outcome:
        """An unexpected exception: a 503 for a dependency outage, else a 500;
        the traceback goes to the log only."""
        error = errors.from_aws_error(exc) or errors.internal_error()
        return cls.failure(error, request_id, action, payload, _traceback(exc))


class Runtime:
    """Everything a warm container reuses: settings, clients, key cache. Clients come
    from a private botocore session (sessions are not thread-safe to share) with no
    hard-coded endpoint, so ``AWS_ENDPOINT_URL`` can point them at an emulator."""

    def __init__(self, settings: s.Settings) -> None:
        self.settings = settings
        session = botocore.session.Session()
        self.dynamodb = session.create_client("dynamodb", config=_CLIENT_CONFIG)
        self.s3 = session.create_client("s3", config=_CLIENT_CONFIG)
        self.secretsmanager = session.create_client("secretsmanager", config=_CLIENT_CONFIG)
        self.keys = ApiKeyStore(self.secretsmanager, settings.api_key_secret)
        self.tasks = TaskRepository(self.dynamodb, settings.table_name)

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """One request on this container (``lambda_handler`` uses the shared one)."""
        return _serve(event, context, lambda: self)

    def outcome(self, request: proxy.Request) -> Outcome:
        """Run the checks and the action; never raises."""
        action: str | None = None
        payload: Any = None
        try:
            missing = self.settings.missing()
            if missing:
                raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
            if request.method.upper() != "POST":
                raise errors.method_not_allowed(request.method)
            if len(request.body) > s.MAX_BODY_BYTES:
                raise errors.payload_too_large(len(request.body), s.MAX_BODY_BYTES)
            self.keys.check(request.headers.get("x-api-key"))
            payload = proxy.json_payload(request)
            action = v.action_name(payload)
            status, body = self._dispatch(v.parse_command(payload))
            return Outcome(status, body, {}, action, payload)
        except errors.ApiError as error:
            return Outcome.failure(error, request.request_id, action, payload)
        except Exception as exc:  # the one place that turns any failure into a response
            return Outcome.crash(exc, request.request_id, action, payload)

    def _dispatch(self, command: Command) -> tuple[int, dict[str, Any]]:
        match command:
            case CreateTask():
                status, task = self.tasks.create(command)
                return status, {"task": task}
            case GetTask():
                return 200, {"task": self.tasks.get(command.task_id)}
            case ListTasks():
                return 200, self.tasks.list_page(command)
            case ClaimTask():
                return 200, {"task": self.tasks.claim(command)}
            case SubmitFeedback():
                return 200, {"task": self.tasks.submit(command)}
            case ReleaseTask():
                return 200, {"task": self.tasks.release(command)}
            case _:
                assert_never(command)


_runtime: Runtime | None = None
_cold_start = True
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """The container's Runtime, built on first use (not at import) so tests and the
    local server can set the environment first."""
    global _runtime  # noqa: PLW0603 - the one per-container object
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime(s.Settings.from_env())
        return _runtime


def reset_caches() -> None:
    """Drop clients, settings and cached API keys: the next request rebuilds them from
    the environment and re-reads the key secret (revoked keys, between test cases)."""
    global _runtime  # noqa: PLW0603 - the one per-container object
    with _runtime_lock:
        _runtime = None


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return _serve(event, context, runtime)


def _serve(event: Any, context: Any, container_of: Callable[[], Runtime]) -> dict[str, Any]:
    started = time.perf_counter()
    metrics.begin()
    received_at = model.now()
    outcome: Outcome | None = None
    try:
        request = proxy.parse_event(event, context)
    except Exception as exc:  # an event we cannot read is still answered and audited
        request = proxy.bare_request(context)
        outcome = Outcome.crash(exc, request.request_id)
    container: Runtime | None = None
    try:
        container = container_of()
    except Exception as exc:  # e.g. no region: answer and log it, do not crash
        outcome = outcome or Outcome.crash(exc, request.request_id)
    else:
        outcome = outcome or container.outcome(request)
    response, outcome = _respond(request, outcome)
    latency_ms = (time.perf_counter() - started) * 1000
    record = audit.record(request, received_at, response, latency_ms, (outcome.action, outcome.payload))
    s3, bucket = (container.s3, container.settings.log_bucket) if container else (None, "")
    audited = audit.store(s3, bucket, audit.object_key(received_at, request.request_id), record)
    write = logger.error if outcome.status >= HTTPStatus.INTERNAL_SERVER_ERROR else logger.info
    write(
        "request",
        extra={
            "request_id": request.request_id,
            "action": outcome.action,
            "status": response["statusCode"],
            "error_code": outcome.error_code,
            "latency_ms": round(latency_ms, 3),
            "audited": audited,
            "source_ip": request.identity.get("sourceIp"),
            "exception": outcome.exception,
            **_lambda_fields(context),
            **metrics.RequestMetrics(
                getattr(context, "function_name", None),
                outcome.action,
                response["statusCode"],
                latency_ms,
                outcome.error_code,
                audited,
            ).emf_fields(),
        },
    )
    return response


def _lambda_fields(context: Any) -> dict[str, Any]:
    """Powertools' Lambda context keys, read defensively (any object may be the context)."""
    global _cold_start
    cold, _cold_start = _cold_start, False
    return {
        "cold_start": cold,
        "function_name": getattr(context, "function_name", None),
        "function_request_id": getattr(context, "aws_request_id", None),
    }


def _respond(request: proxy.Request, outcome: Outcome) -> tuple[dict[str, Any], Outcome]:
    """The proxy response, and the outcome it reports (a crash answered with a fixed
    500 body when the body could not be serialized)."""
    try:
        body = dumps(outcome.body)
    except Exception as exc:  # e.g. RecursionError while serializing
        outcome = Outcome.failure(
            errors.internal_error(), request.request_id, outcome.action, outcome.payload, _traceback(exc)
        )
        body = _LAST_RESORT_BODY % request.request_id
    return proxy.response(outcome.status, body, request.request_id, outcome.headers), outcome


def _traceback(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(exc)).rstrip()
    except Exception:  # e.g. a RecursionError while formatting
        return f"{type(exc).__name__} (traceback unavailable)"
