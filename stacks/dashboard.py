"""One CloudWatch dashboard for the whole request path: alarm states, API Gateway, the
function, DynamoDB (table and each index) and the handler's own metrics (docs/api.md, "Metrics").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from constructs import Construct

from function.contract import INDEXES, METRICS_NAMESPACE, METRICS_SERVICE_DIMENSION, OLDEST_PENDING_METRIC
from stacks.cdk import bindings
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.policies import json_document

HANDLER_NAMESPACE: Final = METRICS_NAMESPACE
PERIOD: Final = 60
_WIDTH: Final = 8
_HEIGHT: Final = 6
_PERCENTILES: Final = ("p50", "p95", "p99")

Metric = list[Any]


def _widget(title: str, metrics: list[Metric], region: str, **extra: Any) -> dict[str, Any]:
    properties = {"title": title, "region": region, "view": "timeSeries", "period": PERIOD, "metrics": metrics}
    return {"type": "metric", "width": _WIDTH, "height": _HEIGHT, "properties": properties | extra}


def _percentiles(namespace: str, name: str, dimensions: list[str]) -> list[Metric]:
    return [[namespace, name, *dimensions, {"stat": p, "label": p}] for p in _PERCENTILES]


def _sums(namespace: str, names: tuple[str, ...], dimensions: list[str]) -> list[Metric]:
    return [[namespace, name, *dimensions, {"stat": "Sum", "label": name}] for name in names]


def _capacity(unit: str, dimensions: list[str], label: str, ident: str) -> list[Metric]:
    """Consumed units per second (the Sum over the period divided by its length) against
    the provisioned units, for reads or writes of the table or one index."""
    return [
        [{"expression": f"{ident}/PERIOD({ident})", "label": f"{label} consumed {unit}CU/s", "id": f"e_{ident}"}],
        ["AWS/DynamoDB", f"Consumed{unit}CapacityUnits", *dimensions, {"stat": "Sum", "id": ident, "visible": False}],
        ["AWS/DynamoDB", f"Provisioned{unit}CapacityUnits", *dimensions,
         {"stat": "Average", "label": f"{label} provisioned {unit}CU"}],
    ]  # fmt: skip


#: The title of the alarm status widget (docs/runbooks.md names widgets by title).
ALARMS_TITLE: Final = "Alarms"


@dataclass(frozen=True)
class Thresholds:
    """Alarm thresholds the dashboard draws, and the alarms whose state it shows."""

    pending_age_seconds: int
    latency_p95_ms: int
    alarm_arns: tuple[str, ...] = ()


def dashboard_body(
    region: str, api_name: str, function_name: str, table_name: str, thresholds: Thresholds
) -> dict[str, Any]:
    """The dashboard as CloudWatch's JSON body (names may be Terraform references)."""
    api = ["ApiName", api_name]
    fn = ["FunctionName", function_name]
    service = [METRICS_SERVICE_DIMENSION, function_name]
    parts = [("table", ["TableName", table_name])] + [
        (index.name, ["TableName", table_name, "GlobalSecondaryIndexName", index.name]) for index in INDEXES
    ]
    dynamodb = [
        _widget(f"DynamoDB {unit.lower()} capacity: {label}", _capacity(unit, dims, label, f"{unit[0].lower()}{n}"),
                region)
        for n, (label, dims) in enumerate(parts)
        for unit in ("Read", "Write")
    ]  # fmt: skip  # fmt: skip
    throttles = [
        ["AWS/DynamoDB", name, *dims, {"stat": "Sum", "label": f"{label} {name}"}]
        for label, dims in parts
        for name in ("ReadThrottleEvents", "WriteThrottleEvents")
    ]
    search = (
        f"SEARCH('{{{HANDLER_NAMESPACE},{METRICS_SERVICE_DIMENSION},Action}} "
        f'{METRICS_SERVICE_DIMENSION}="{function_name}" MetricName="Requests"\', '
        f"'Sum', {PERIOD})"
    )
    status = {
        "type": "alarm",
        "width": 3 * _WIDTH,
        "height": _HEIGHT // 2,
        "properties": {"title": ALARMS_TITLE, "alarms": list(thresholds.alarm_arns)},
    }
    latency_alarm = {"horizontal": [{"label": "p95 alarm", "value": thresholds.latency_p95_ms}]}
    widgets = [
        *([status] if thresholds.alarm_arns else []),
        _widget("API requests", [["AWS/ApiGateway", "Count", *api, {"stat": "Sum", "label": "requests"}]], region),
        _widget("API latency (ms)", _percentiles("AWS/ApiGateway", "Latency", api), region, annotations=latency_alarm),
        _widget("API 4XX / 5XX", _sums("AWS/ApiGateway", ("4XXError", "5XXError"), api), region),
        _widget("Lambda duration (ms)", _percentiles("AWS/Lambda", "Duration", fn), region),
        _widget("Lambda errors and throttles", _sums("AWS/Lambda", ("Errors", "Throttles"), fn), region),
        _widget("Lambda concurrency", [["AWS/Lambda", "ConcurrentExecutions", *fn, {"stat": "Maximum"}]], region),
        *dynamodb,
        _widget("DynamoDB throttles: table and indexes", throttles, region),
        _widget("Handler requests by action", [[{"expression": search, "id": "by_action"}]], region),
        _widget(
            "Handler responses by status class",
            _sums(HANDLER_NAMESPACE, ("Status2xx", "Status4xx", "Status5xx"), service),
            region,
        ),
        _widget("Handler latency (ms)", _percentiles(HANDLER_NAMESPACE, "Latency", service), region),
        _widget(
            "Claim contention and audit fallbacks",
            _sums(HANDLER_NAMESPACE, ("ClaimContention", "ClaimLostRaces", "AuditFallbacks"), service),
            region,
        ),
        _widget(
            "Oldest pending task age (s), seen by claims",
            [[HANDLER_NAMESPACE, OLDEST_PENDING_METRIC, *service, {"stat": "Maximum", "label": "age"}]],
            region,
            annotations={"horizontal": [{"label": "alarm", "value": thresholds.pending_age_seconds}]},
        ),
    ]
    return {"widgets": widgets}


@dataclass(frozen=True)
class Watched:
    """Names of what the dashboard shows (Terraform references in the stack)."""

    api_name: str
    function_name: str
    table_name: str


class Dashboard(Construct):
    """``aws_cloudwatch_dashboard.main``: ``<name_prefix>_overview``."""

    def __init__(
        self, scope: Construct, config: StackConfig, aws: AwsContext, *, watched: Watched, alarm_arns: list[str]
    ) -> None:
        super().__init__(scope, "dashboard")
        thresholds = Thresholds(config.pending_task_age_alarm_seconds, config.latency_alarm_p95_ms, tuple(alarm_arns))
        body = dashboard_body(aws.region, watched.api_name, watched.function_name, watched.table_name, thresholds)
        self.dashboard = bindings.cloudwatch_dashboard.CloudwatchDashboard(
            self,
            "aws_cloudwatch_dashboard.main",
            dashboard_name=f"{config.name_prefix}_overview",
            dashboard_body=json_document(body),
        )
