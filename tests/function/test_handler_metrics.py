"""CloudWatch Embedded Metric Format in the request log line: the real handler against moto."""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest

from function import model
from tests.function.support import BUCKET, TABLE, Api, Aws, LambdaContext, handler

HOUR = 3600


def _request_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return [line for line in lines if line.get("message") == "request"]


def _metric_values(line: dict[str, Any]) -> dict[str, Any]:
    """The metrics the EMF block declares, with their values from the line (as CloudWatch reads
    them: Powertools writes each as a list of the values added, one per request here)."""
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "TapStack/TaskApi"
    assert directive["Dimensions"] == [["Service"], ["Service", "Action"]]
    for dimension in ("Service", "Action"):
        assert isinstance(line[dimension], str) and line[dimension]
    assert isinstance(line["_aws"]["Timestamp"], int)
    assert all(len(line[metric["Name"]]) == 1 for metric in directive["Metrics"])
    return {metric["Name"]: (line[metric["Name"]][0], metric["Unit"]) for metric in directive["Metrics"]}


def test_every_request_line_carries_count_latency_and_status_class(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    api.create()
    api.call("get_task", task_id="00000000-0000-4000-8000-000000000000")
    api.call("list_tasks", key="wrong-key")
    api.call("drop_tables")
    created, missing, forbidden, unknown = _request_lines(capsys)
    values = _metric_values(created)
    assert created["Service"] == LambdaContext.function_name and created["Action"] == "create_task"
    assert values["Requests"] == (1, "Count")
    assert values["Latency"][1] == "Milliseconds" and values["Latency"][0] == created["latency_ms"]
    assert (values["Status2xx"][0], values["Status4xx"][0], values["Status5xx"][0]) == (1, 0, 0)
    assert values["AuditFallbacks"] == (0, "Count") and values["ClaimContention"] == (0, "Count")
    assert "OldestPendingTaskAgeSeconds" not in values and "ClaimLostRaces" not in values
    assert _metric_values(missing)["Status4xx"][0] == 1 and missing["Action"] == "get_task"
    # Rejected before the body was read: no action; an action the API does not know: "other".
    assert forbidden["Action"] == "none" and _metric_values(forbidden)["Status4xx"][0] == 1
    assert unknown["Action"] == "other" and unknown["action"] == "drop_tables"


def test_a_500_counts_as_5xx(
    api: Api, aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DYNAMODB_TABLE")
    handler.reset_caches()
    capsys.readouterr()
    assert api.call("list_tasks").status == HTTPStatus.INTERNAL_SERVER_ERROR
    (line,) = _request_lines(capsys)
    values = _metric_values(line)
    assert (values["Status2xx"][0], values["Status4xx"][0], values["Status5xx"][0]) == (0, 0, 1)


def test_a_claim_reports_the_age_of_the_oldest_pending_task(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], one_shard: None
) -> None:
    old = api.create(priority=1)
    api.create(priority=9)
    # Age the low-priority task by an hour: its created_at lives in the queue key.
    created = model.timestamp(model.now() - timedelta(hours=1))
    aws.dynamodb.update_item(
        TableName=TABLE, Key={"id": {"S": old["id"]}}, UpdateExpression="SET queue_key = :k",
        ExpressionAttributeValues={":k": {"S": model.pending_queue_key(1, created, old["id"])}},
    )  # fmt: skip
    capsys.readouterr()
    assert api.claim("annotator-1").status == HTTPStatus.OK
    (line,) = _request_lines(capsys)
    values = _metric_values(line)
    age, unit = values["OldestPendingTaskAgeSeconds"]
    assert unit == "Seconds" and HOUR <= age < HOUR + 100
    assert values["ClaimLostRaces"] == (0, "Count") and values["ClaimContention"][0] == 0


def test_an_empty_queue_reports_age_zero(api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert api.claim("annotator-1").status == HTTPStatus.NOT_FOUND
    (line,) = _request_lines(capsys)
    assert _metric_values(line)["OldestPendingTaskAgeSeconds"] == (0.0, "Seconds")


def test_lost_races_and_contention_are_counted(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], one_shard: None
) -> None:
    for _ in range(3):
        api.create()
    runtime = handler.runtime()

    def another_writer_first(params: dict[str, Any], **_: Any) -> None:
        # Someone else claims the task between this claim's Query and its write.
        aws.dynamodb.update_item(
            TableName=TABLE, Key=params["Key"], UpdateExpression="SET #s = :assigned REMOVE queue_shard",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":assigned": {"S": "assigned"}},
        )  # fmt: skip

    runtime.dynamodb.meta.events.register("before-parameter-build.dynamodb.UpdateItem", another_writer_first)
    capsys.readouterr()
    response = api.claim("annotator-1")
    assert response.status == HTTPStatus.CONFLICT and response.error["code"] == "claim_contention"
    (line,) = _request_lines(capsys)
    values = _metric_values(line)
    assert values["ClaimLostRaces"] == (3, "Count") and values["ClaimContention"] == (1, "Count")


def test_an_audit_fallback_is_counted(api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.s3.delete_bucket(Bucket=BUCKET)
    capsys.readouterr()
    assert api.call("list_tasks").status == HTTPStatus.OK
    (line,) = _request_lines(capsys)
    assert _metric_values(line)["AuditFallbacks"] == (1, "Count")


def test_observations_do_not_leak_into_the_next_request(api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    api.create()
    api.claim("annotator-1")
    capsys.readouterr()
    api.call("list_tasks")
    (line,) = _request_lines(capsys)
    assert "OldestPendingTaskAgeSeconds" not in _metric_values(line)
