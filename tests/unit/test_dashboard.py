"""The dashboard, the oldest-pending-task alarm and the p95 latency alarm, on the synthesized stacks."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from function import metrics
from function.contract import METRICS_NAMESPACE, OLDEST_PENDING_METRIC
from stacks.cdk import core
from stacks.checks import validate
from stacks.config import ConfigError, StackConfig
from stacks.database import INDEXES
from stacks.package import LambdaPackage
from stacks.tap_stack import TapStack
from tests.unit.helpers import jsonencoded

API = "${aws_api_gateway_rest_api.main.name}"
FUNCTION = "${aws_lambda_function.main.function_name}"
TABLE = "${aws_dynamodb_table.data.name}"


def _body(stack: dict[str, Any]) -> dict[str, Any]:
    dashboard = stack["resource"]["aws_cloudwatch_dashboard"]["main"]
    return jsonencoded(dashboard["dashboard_body"])


def _widgets(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The metric widgets by title."""
    widgets = _body(stack)["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert len(titles) == len(set(titles)), "widget titles are unique"
    return {w["properties"]["title"]: w["properties"] for w in widgets if w["type"] == "metric"}


def _series(properties: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    """(namespace, metric, dimensions, stat) of each plain metric of a widget."""
    out = []
    for entry in properties["metrics"]:
        if isinstance(entry[0], dict):
            continue
        options = entry[-1] if isinstance(entry[-1], dict) else {}
        dims = tuple(entry[2:-1] if options else entry[2:])
        out.append((entry[0], entry[1], dims, options.get("stat")))
    return out


def test_dashboard_is_named_per_environment(prod_stack: dict[str, Any], dev_stack: dict[str, Any]) -> None:
    assert prod_stack["resource"]["aws_cloudwatch_dashboard"]["main"]["dashboard_name"] == "tap_stack_overview"
    assert dev_stack["resource"]["aws_cloudwatch_dashboard"]["main"]["dashboard_name"] == "tap_stack_dev_overview"


def test_api_and_lambda_widgets(prod_stack: dict[str, Any]) -> None:
    widgets = _widgets(prod_stack)
    assert _series(widgets["API requests"]) == [("AWS/ApiGateway", "Count", ("ApiName", API), "Sum")]
    for title, namespace, metric, dims in (
        ("API latency (ms)", "AWS/ApiGateway", "Latency", ("ApiName", API)),
        ("Lambda duration (ms)", "AWS/Lambda", "Duration", ("FunctionName", FUNCTION)),
        ("Handler latency (ms)", METRICS_NAMESPACE, "Latency", ("Service", FUNCTION)),
    ):
        assert _series(widgets[title]) == [(namespace, metric, dims, p) for p in ("p50", "p95", "p99")]
    assert {(m, s) for _, m, _, s in _series(widgets["API 4XX / 5XX"])} == {("4XXError", "Sum"), ("5XXError", "Sum")}
    assert {m for _, m, _, _ in _series(widgets["Lambda errors and throttles"])} == {"Errors", "Throttles"}
    assert _series(widgets["Lambda concurrency"]) == [
        ("AWS/Lambda", "ConcurrentExecutions", ("FunctionName", FUNCTION), "Maximum")
    ]
    for properties in widgets.values():
        assert properties["region"] == "${var.aws_region}" and properties["period"] == 60


def test_dynamodb_capacity_and_throttles_for_the_table_and_each_index(prod_stack: dict[str, Any]) -> None:
    widgets = _widgets(prod_stack)
    parts = {"table": ("TableName", TABLE)} | {
        i.name: ("TableName", TABLE, "GlobalSecondaryIndexName", i.name) for i in INDEXES
    }
    for label, dims in parts.items():
        for unit in ("Read", "Write"):
            properties = widgets[f"DynamoDB {unit.lower()} capacity: {label}"]
            assert set(_series(properties)) == {
                ("AWS/DynamoDB", f"Consumed{unit}CapacityUnits", dims, "Sum"),
                ("AWS/DynamoDB", f"Provisioned{unit}CapacityUnits", dims, "Average"),
            }
            (expression,) = [e[0] for e in properties["metrics"] if isinstance(e[0], dict)]
            consumed = next(e[-1]["id"] for e in properties["metrics"] if "Consumed" in str(e[1:2]))
            assert expression["expression"] == f"{consumed}/PERIOD({consumed})"
    throttles = set(_series(widgets["DynamoDB throttles: table and indexes"]))
    assert throttles == {
        ("AWS/DynamoDB", name, dims, "Sum")
        for dims in parts.values()
        for name in ("ReadThrottleEvents", "WriteThrottleEvents")
    }


def test_handler_metrics_widgets_match_what_the_handler_writes(prod_stack: dict[str, Any]) -> None:
    emitted = metrics.RequestMetrics("fn", "claim_task", 409, 1.0, "claim_contention", audited=False).emf_fields()
    declared = {m["Name"] for m in emitted["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    widgets = _widgets(prod_stack)
    shown = {
        metric
        for properties in widgets.values()
        for namespace, metric, dims, _ in _series(properties)
        if namespace == METRICS_NAMESPACE and dims == ("Service", FUNCTION)
    }
    assert declared - {"Requests"} <= shown, declared - shown
    assert {"Status2xx", "Status4xx", "Status5xx", "ClaimContention", "AuditFallbacks", OLDEST_PENDING_METRIC} <= shown
    (search,) = [e[0]["expression"] for e in widgets["Handler requests by action"]["metrics"]]
    assert re.fullmatch(
        r"SEARCH\('\{TapStack/TaskApi,Service,Action\} Service=\"\$\{aws_lambda_function\.main\.function_name\}\" "
        r"MetricName=\"Requests\"', 'Sum', 60\)",
        search,
    )


def test_oldest_pending_task_alarm(prod_stack: dict[str, Any]) -> None:
    alarm = prod_stack["resource"]["aws_cloudwatch_metric_alarm"]["oldest_pending_task_age"]
    assert (alarm["namespace"], alarm["metric_name"]) == (METRICS_NAMESPACE, OLDEST_PENDING_METRIC)
    assert alarm["dimensions"] == {"Service": FUNCTION}
    assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == (
        "Maximum", "GreaterThanThreshold", 3600,
    )  # fmt: skip
    assert alarm["treat_missing_data"] == "notBreaching"
    assert alarm["alarm_actions"] == alarm["ok_actions"] == ["${aws_sns_topic.alarms.arn}"]
    annotation = _widgets(prod_stack)["Oldest pending task age (s), seen by claims"]["annotations"]
    assert annotation == {"horizontal": [{"label": "alarm", "value": 3600}]}


@pytest.mark.parametrize("seconds", [59, 14 * 86400 + 1])
def test_alarm_threshold_out_of_range_is_refused(prod_config: StackConfig, seconds: int) -> None:
    with pytest.raises(ConfigError, match=f"pending_task_age_alarm_seconds={seconds} must be 60-1209600"):
        validate(replace(prod_config, pending_task_age_alarm_seconds=seconds))


def test_p95_latency_alarm(prod_stack: dict[str, Any]) -> None:
    """p95 above 200 ms in 3 of 5 minutes, each with at least 20 requests; quiet minutes are fine."""
    alarm = prod_stack["resource"]["aws_cloudwatch_metric_alarm"]["api_latency_p95"]
    assert alarm["alarm_name"] == "tap_stack_api_latency_p95"
    assert (alarm["threshold"], alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (200, 5, 3)
    assert (alarm["comparison_operator"], alarm["treat_missing_data"]) == ("GreaterThanThreshold", "notBreaching")
    p95, requests, guarded = alarm["metric_query"]
    for query, stat in ((p95, "p95"), (requests, "SampleCount")):
        assert query["metric"] == {
            "namespace": "AWS/ApiGateway", "metric_name": "Latency", "dimensions": {"ApiName": API},
            "period": 60, "stat": stat,
        }  # fmt: skip
        assert query["return_data"] is False
    assert (guarded["expression"], guarded["return_data"]) == ("IF(requests >= 20, p95, 0)", True)
    assert alarm["alarm_actions"] == alarm["ok_actions"] == ["${aws_sns_topic.alarms.arn}"]


def test_latency_threshold_is_a_setting(prod_config: StackConfig, lambda_package: LambdaPackage) -> None:
    config = replace(prod_config, latency_alarm_p95_ms=350)
    stack = json.loads(core.Testing.synth(TapStack(core.Testing.app(), config, lambda_package)))
    assert stack["resource"]["aws_cloudwatch_metric_alarm"]["api_latency_p95"]["threshold"] == 350
    latency = _widgets(stack)["API latency (ms)"]
    assert latency["annotations"] == {"horizontal": [{"label": "p95 alarm", "value": 350}]}


def test_the_dashboard_shows_every_alarm_first(prod_stack: dict[str, Any]) -> None:
    first = _body(prod_stack)["widgets"][0]
    assert (first["type"], first["properties"]["title"]) == ("alarm", "Alarms")
    alarms = prod_stack["resource"]["aws_cloudwatch_metric_alarm"]
    assert sorted(first["properties"]["alarms"]) == sorted(f"${{aws_cloudwatch_metric_alarm.{n}.arn}}" for n in alarms)
    assert len(alarms) == 8
