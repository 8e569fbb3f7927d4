"""Audit records in S3 (with a logged fallback) and one structured log line per request."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.function.support import API_KEY, BUCKET, Api, Aws

AUDIT_KEY = re.compile(r"^audit/(\d{4})/(\d{2})/(\d{2})/(\d{2})/([A-Za-z0-9-]+)\.json$")


def _log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_each_request_is_one_audit_object_named_by_hour_and_request_id(api: Api, aws: Aws) -> None:
    before = datetime.now(UTC)
    api.source_ip = "198.51.100.23"
    created = api.call("create_task", task={"prompt": "p", "responses": ["a", "b"]}, client_token="c-1")
    records = aws.audit_records()
    assert len(records) == 1
    key, record = records[0]
    after = datetime.now(UTC)
    year, month, day, hour, request_id = AUDIT_KEY.match(key).groups()
    assert request_id == created.request_id == record["request_id"]
    received = datetime.fromisoformat(record["received_at"].replace("Z", "+00:00"))
    assert before <= received <= after
    assert (int(year), int(month), int(day), int(hour)) == (received.year, received.month, received.day, received.hour)
    assert record["action"] == "create_task" and record["status"] == 201
    assert isinstance(record["latency_ms"], float) and record["latency_ms"] > 0
    assert record["caller"]["source_ip"] == "198.51.100.23"
    assert record["caller"]["identity"]["userAgent"] == "pytest"
    assert record["request"]["method"] == "POST" and record["request"]["path"] == "/lambda"
    assert record["request"]["body"]["json"]["client_token"] == "c-1"
    assert record["response"]["status_code"] == 201
    assert record["response"]["body"] == created.body


@pytest.mark.parametrize(
    ("event_kwargs", "status", "action"),
    [
        ({"body": {"action": "list_tasks"}, "method": "GET"}, 405, None),
        ({"raw": "x" * (256 * 1024 + 1)}, 413, None),
        ({"body": {"action": "list_tasks"}, "key": None}, 401, None),
        ({"body": {"action": "list_tasks"}, "key": "wrong-key-value-1234"}, 403, None),
        ({"raw": "{oops"}, 400, None),
        ({"body": {"action": "get_task", "task_id": "nope"}}, 400, "get_task"),
        ({"body": {"action": "get_task", "task_id": "00000000-0000-4000-8000-000000000000"}}, 404, "get_task"),
    ],
)
def test_rejected_requests_are_audited_without_the_key(
    api: Api, aws: Aws, event_kwargs: dict, status: int, action: str | None
) -> None:
    response = api.send(api.event(**event_kwargs))
    assert response.status == status
    [(key, record)] = aws.audit_records()
    assert key.endswith(f"/{response.request_id}.json")
    assert (record["status"], record["action"]) == (status, action)
    assert record["response"]["body"]["error"]["code"] == response.error["code"]
    stored = aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert API_KEY not in stored and "wrong-key-value-1234" not in stored
    if event_kwargs.get("key", API_KEY):
        assert record["request"]["headers"]["x-api-key"] == "[REDACTED]"
        assert re.fullmatch(r"[0-9a-f]{12}", record["caller"]["api_key_fingerprint"])


def test_oversized_and_unparsable_bodies_are_kept_only_in_part(api: Api, aws: Aws) -> None:
    api.send(api.event(raw="x" * (256 * 1024 + 1)))
    [(_, record)] = aws.audit_records()
    assert record["request"]["body"]["bytes"] == 256 * 1024 + 1
    assert len(record["request"]["body"]["raw_excerpt"]) == 4096 and "json" not in record["request"]["body"]


def test_api_gateway_api_key_in_identity_is_redacted(api: Api, aws: Aws) -> None:
    event = api.event({"action": "list_tasks"})
    event["requestContext"]["identity"]["apiKey"] = "usage-plan-key-xyz"
    api.send(event)
    [(_, record)] = aws.audit_records()
    assert record["caller"]["identity"]["apiKey"] == "[REDACTED]"


def test_one_structured_log_line_per_request(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    ok = api.call("list_tasks")
    bad = api.call("list_tasks", key="nope")
    lines = _log_lines(capsys)
    assert len(lines) == 2
    first, second = lines
    assert first["message"] == "request" and first["level"] == "INFO"
    assert (first["request_id"], first["action"], first["status"], first["audited"]) == (
        ok.request_id,
        "list_tasks",
        200,
        True,
    )
    assert (second["request_id"], second["status"], second["error_code"]) == (bad.request_id, 403, "invalid_api_key")
    assert first["source_ip"] == "203.0.113.7" and first["latency_ms"] >= 0
    assert API_KEY not in json.dumps(lines)


def test_s3_outage_falls_back_to_one_logged_record_and_the_request_succeeds(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.s3.delete_bucket(Bucket=BUCKET)
    capsys.readouterr()
    response = api.call("create_task", task={"prompt": "p", "responses": ["a", "b"]})
    assert response.status == 201
    lines = _log_lines(capsys)
    fallback = [line for line in lines if line.get("audit_fallback")]
    assert len(fallback) == 1 and len(lines) == 2
    line = fallback[0]
    assert line["level"] == "ERROR" and "NoSuchBucket" in line["error"]
    assert AUDIT_KEY.match(line["audit_key"]).group(5) == response.request_id
    record = line["record"]
    assert (record["request_id"], record["action"], record["status"]) == (response.request_id, "create_task", 201)
    assert record["response"]["body"] == response.body
    assert record["request"]["headers"]["x-api-key"] == "[REDACTED]"
    request_line = next(line for line in lines if line["message"] == "request")
    assert request_line["audited"] is False and request_line["status"] == 201
    assert API_KEY not in json.dumps(lines)
