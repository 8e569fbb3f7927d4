"""The handler's metrics: CloudWatch Embedded Metric Format (EMF) in the request log line
(no PutMetricData call, latency or IAM action; the list is docs/api.md's "Metrics").

Each request gets its own ``EphemeralMetrics`` (Powertools' ``Metrics`` shares one set per
process, which the threaded local API server would mix up). Code on the request path
records what it observed with ``note``, in a context variable ``begin`` resets per request.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from aws_lambda_powertools.metrics import EphemeralMetrics

from function.contract import METRICS_NAMESPACE, METRICS_SERVICE_DIMENSION, OLDEST_PENDING_METRIC
from function.validation import ACTIONS

#: Observations code on the request path may report (metric name -> unit).
CLAIM_LOST_RACES: Final = "ClaimLostRaces"
_OBSERVED_UNITS: Final = {CLAIM_LOST_RACES: "Count", OLDEST_PENDING_METRIC: "Seconds"}

_observed: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("tap_metrics", default=None)


def begin() -> None:
    """Start a request: drop whatever the previous one on this thread observed."""
    _observed.set({})


def note(name: str, value: float) -> None:
    """Record one observation of the current request (the last value wins)."""
    observed = _observed.get()
    if observed is None:
        observed = {}
        _observed.set(observed)
    observed[name] = value


@dataclass(frozen=True)
class RequestMetrics:
    """What one request contributes; ``service`` is the Lambda context's ``function_name``."""

    service: str | None
    action: str | None
    status: int
    latency_ms: float
    error_code: str | None
    audited: bool

    def emf_fields(self) -> dict[str, Any]:
        """The EMF block and metric values, as top-level fields of the log line."""
        values: dict[str, float] = {
            "Requests": 1,
            "Latency": round(self.latency_ms, 3),
            "Status2xx": int(self.status < HTTPStatus.BAD_REQUEST),
            "Status4xx": int(HTTPStatus.BAD_REQUEST <= self.status < HTTPStatus.INTERNAL_SERVER_ERROR),
            "Status5xx": int(self.status >= HTTPStatus.INTERNAL_SERVER_ERROR),
            "ClaimContention": int(self.error_code == "claim_contention"),
            "AuditFallbacks": int(not self.audited),
        }
        units = dict.fromkeys(values, "Count") | {"Latency": "Milliseconds"}
        for name, value in (_observed.get() or {}).items():
            values[name] = value
            units[name] = _OBSERVED_UNITS.get(name, "None")
        service = self.service or "unknown"
        # Only the six actions are dimension values, so clients cannot create metric streams.
        action = "none" if self.action is None else self.action if self.action in ACTIONS else "other"
        emf = EphemeralMetrics(namespace=METRICS_NAMESPACE)
        emf.add_dimension(METRICS_SERVICE_DIMENSION, service)
        emf.add_dimensions(**{METRICS_SERVICE_DIMENSION: service, "Action": action})
        for name, value in values.items():
            emf.add_metric(name=name, unit=units[name], value=value)
        return dict(emf.serialize_metric_set())
