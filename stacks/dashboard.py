"""One CloudWatch dashboard for the whole request path: alarm states, API Gateway, the
function, DynamoDB (table and each index) and the handler's own metrics (docs/api.md, "Metrics").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from constructs import Construct

from function.contract import INDEXES, METRICS_NAMESPACE, METRICS_SERVICE_DIMENSION, OLDEST_PENDING_METRIC
from stacks.cdk import bindings
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.policies import json_document

PERIOD: Final = 60
_WIDTH: Final = 8
_HEIGHT: Final = 6
_PERCENTILES: Final = ("p50", "p95", "p99")

Metric = list[Any]


def _widget(title: str, metrics: list[Metric], *, region: str, **extra: Any) -> dict[str, Any]:
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
class Watched:
    """Names of what the dashboard shows (Terraform references in the stack)."""

    api_name: str
    function_name: str
    table_name: str


def dashboard_body(region: str, watched: Watched, config: StackConfig, alarm_arns: list[str]) -> dict[str, Any]:
    """The dashboard as CloudWatch's JSON body (names may be Terraform references)."""
    widget = partial(_widget, region=region)
    api = ["ApiName", watched.api_name]
    fn = ["FunctionName", watched.function_name]
    service = [METRICS_SERVICE_DIMENSION, watched.function_name]
    table_name = watched.table_name
    parts = [("table", ["TableName", table_name])] + [
        (index.name, ["TableName", table_name, "GlobalSecondaryIndexName", index.name]) for index in INDEXES
    ]
    dynamodb = [
        widget(f"DynamoDB {unit.lower()} capacity: {label}", _capacity(unit, dims, label, f"{unit[0].lower()}{n}"))
        for n, (label, dims) in enumerate(parts)
        for unit in ("Read", "Write")
    ]
    throttles = [
        ["AWS/DynamoDB", name, *dims, {"stat": "Sum", "label": f"{label} {name}"}]
        for label, dims in parts
        for name in ("ReadThrottleEvents", "WriteThrottleEvents")
    ]
    search = (
        f"SEARCH('{{{METRICS_NAMESPACE},{METRICS_SERVICE_DIMENSION},Action}} "
        f'{METRICS_SERVICE_DIMENSION}="{watched.function_name}" MetricName="Requests"\', '
        f"'Sum', {PERIOD})"
    )
    status = {
        "type": "alarm",
        "width": 3 * _WIDTH,
        "height": _HEIGHT // 2,
        "properties": {"title": ALARMS_TITLE, "alarms": alarm_arns},
    }
    latency_alarm = {"horizontal": [{"label": "p95 alarm", "value": config.latency_alarm_p95_ms}]}
    widgets = [
        *([status] if alarm_arns else []),
        widget("API requests", [["AWS/ApiGateway", "Count", *api, {"stat": "Sum", "label": "requests"}]]),
        widget("API latency (ms)", _percentiles("AWS/ApiGateway", "Latency", api), annotations=latency_alarm),
        widget("API 4XX / 5XX", _sums("AWS/ApiGateway", ("4XXError", "5XXError"), api)),
        widget("Lambda duration (ms)", _percentiles("AWS/Lambda", "Duration", fn)),
        widget("Lambda errors and throttles", _sums("AWS/Lambda", ("Errors", "Throttles"), fn)),
        widget("Lambda concurrency", [["AWS/Lambda", "ConcurrentExecutions", *fn, {"stat": "Maximum"}]]),
        *dynamodb,
        widget("DynamoDB throttles: table and indexes", throttles),
        widget("Handler requests by action", [[{"expression": search, "id": "by_action"}]]),
        widget(
            "Handler responses by status class",
            _sums(METRICS_NAMESPACE, ("Status2xx", "Status4xx", "Status5xx"), service),
        ),
        widget("Handler latency (ms)", _percentiles(METRICS_NAMESPACE, "Latency", service)),
        widget(
            "Claim contention and audit fallbacks",
            _sums(METRICS_NAMESPACE, ("ClaimContention", "ClaimLostRaces", "AuditFallbacks"), service),
        ),
        widget(
            "Oldest pending task age (s), seen by claims",
            [[METRICS_NAMESPACE, OLDEST_PENDING_METRIC, *service, {"stat": "Maximum", "label": "age"}]],
            annotations={"horizontal": [{"label": "alarm", "value": config.pending_task_age_alarm_seconds}]},
        ),
    ]
    return {"widgets": widgets}


class Dashboard(Construct):
    """``aws_cloudwatch_dashboard.main``: ``<name_prefix>_overview``."""

    def __init__(
        self, scope: Construct, config: StackConfig, aws: AwsContext, *, watched: Watched, alarm_arns: list[str]
    ) -> None:
        super().__init__(scope, "dashboard")
        self.dashboard = bindings.cloudwatch_dashboard.CloudwatchDashboard(
            self,
            "aws_cloudwatch_dashboard.main",
            dashboard_name=f"{config.name_prefix}_overview",
            dashboard_body=json_document(dashboard_body(aws.region, watched, config, alarm_arns)),
        )
