"""Lambda entry point of the TAP task API (``lambda_function.lambda_handler``).

One request flows through: method (405) -> body size (413) -> API key
(401/403) -> JSON, action and fields (400) -> one action on the task table.
Whatever the outcome, the request is audited to S3 and logged as one JSON line
before the proxy response is returned.

Per-container state (boto3 clients, cached API keys) lives in one ``Runtime``
built on first use; ``reset_caches()`` drops it.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

import audit
import model
import proxy
import settings as s
import validation as v
from auth import ApiKeyStore
from errors import ApiError, from_aws_error, internal_error
from jsonlog import log
from tasks import TaskRepository

_CLIENT_CONFIG = Config(
    connect_timeout=s.AWS_CONNECT_TIMEOUT_SECONDS,
    read_timeout=s.AWS_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": s.AWS_MAX_ATTEMPTS},
)


@dataclass
class Outcome:
    """What one request produced, for the response, the audit and the log."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    action: str | None = None
    payload: Any = None
    error_code: str | None = None
    exception: str | None = None


class Runtime:
    """Everything a warm container reuses: settings, clients, key cache.

    Clients come from a private ``boto3.session.Session`` (sessions are not
    thread-safe to share; one per container is what Lambda needs anyway) and
    use no hard-coded endpoint, so ``AWS_ENDPOINT_URL`` can point them at an
    emulator.
    """

    def __init__(self, settings: s.Settings) -> None:
        self.settings = settings
        session = boto3.session.Session()
        self.dynamodb = session.client("dynamodb", config=_CLIENT_CONFIG)
        self.s3 = session.client("s3", config=_CLIENT_CONFIG)
        self.secretsmanager = session.client("secretsmanager", config=_CLIENT_CONFIG)
        self.keys = ApiKeyStore(self.secretsmanager, settings.api_key_secret)
        self.tasks = TaskRepository(self.dynamodb, settings.table_name)
        self.audit = audit.AuditWriter(self.s3, settings.log_bucket)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        received_at = model.now()
        request = proxy.parse_event(event if isinstance(event, dict) else {}, context)
        outcome = self._outcome(request)
        response = proxy.response(outcome.status, outcome.body, request.request_id, outcome.headers)
        latency_ms = (time.perf_counter() - started) * 1000
        record = audit.build_record(request, received_at, outcome.action, outcome.payload, response, latency_ms)
        audited = self.audit.write(audit.object_key(received_at, request.request_id), record)
        log(
            "ERROR" if outcome.status >= 500 else "INFO",
            "request",
            request_id=request.request_id,
            action=outcome.action,
            status=outcome.status,
            error_code=outcome.error_code,
            latency_ms=round(latency_ms, 3),
            audited=audited,
            source_ip=request.identity.get("sourceIp"),
            **({"exception": outcome.exception} if outcome.exception else {}),
        )
        return response

    def _outcome(self, request: proxy.Request) -> Outcome:
        outcome = Outcome(0, {}, {})
        try:
            missing = self.settings.missing()
            if missing:
                raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
            proxy.require_post(request)
            proxy.require_size(request)
            self.keys.check(proxy.api_key(request))
            outcome.payload = proxy.json_payload(request)
            outcome.action = v.action_name(outcome.payload)
            command = v.parse_command(outcome.payload)
            outcome.status, outcome.body = self._dispatch(command)
            return outcome
        except ApiError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into a response
            error = from_aws_error(exc) or internal_error()
            outcome.exception = "".join(traceback.format_exception(exc)).rstrip()
        outcome.status, outcome.headers = error.status, dict(error.headers)
        outcome.body, outcome.error_code = error.body(request.request_id), error.code
        return outcome

    def _dispatch(self, command: v.Command) -> tuple[int, dict[str, Any]]:
        match command:
            case v.CreateTask():
                status, task = self.tasks.create(command)
                return status, {"task": task}
            case v.GetTask():
                return 200, {"task": self.tasks.get(command.task_id)}
            case v.ListTasks():
                return 200, self.tasks.list(command)
            case v.ClaimTask():
                return 200, {"task": self.tasks.claim(command)}
            case v.SubmitFeedback():
                return 200, {"task": self.tasks.submit(command)}
            case v.ReleaseTask():
                return 200, {"task": self.tasks.release(command)}
        raise TypeError(f"no handler for {type(command).__name__}")


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """The container's Runtime, built on first use rather than at import so
    tests and the local server can set the environment first."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime(s.Settings.from_env())
        return _runtime


def reset_caches() -> None:
    """Drop the container's state: clients, settings and cached API keys.

    The next request rebuilds them from the environment and re-reads the key
    secret. Use it when keys were revoked and even a 5-minute TTL is too long
    (e.g. from an operator-triggered invocation), and between test cases.
    """
    global _runtime
    with _runtime_lock:
        _runtime = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return runtime().handle(event, context)
