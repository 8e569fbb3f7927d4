"""The handler's guarantee: whatever the event and whatever fails, a proxy
response of ours, the audit record (in S3 or as the fallback log line) and one
request log line. Failures are injected through real seams only: the event
itself, the environment, moto, and the stdlib calls our code makes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.function.support import API_KEY, BUCKET, Api, Aws, LambdaContext, handler


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def _guaranteed(result: dict[str, Any], aws: Aws, out: str, *, status: int, in_s3: bool) -> dict[str, Any]:
    """The three promises, checked; returns the request log line."""
    assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert result["statusCode"] == status
    request_id = result["headers"]["X-Request-Id"]
    body = json.loads(result["body"])
    if status >= 400:
        assert body["error"]["request_id"] == request_id
    if status == 500:
        assert body["error"] == {"code": "internal_error", "message": "internal error", "request_id": request_id}
    lines = _lines(out)
    [request_line] = [line for line in lines if line.get("message") == "request"]
    assert request_line["request_id"] == request_id and request_line["status"] == status
    assert request_line["audited"] is in_s3
    records = [record for key, record in aws.audit_records() if key.endswith(f"/{request_id}.json")]
    fallback = [line for line in lines if line.get("audit_fallback")]
    if in_s3:
        assert len(records) == 1 and records[0]["status"] == status and not fallback
    else:
        assert not records and len(fallback) == 1 and fallback[0]["record"]["request_id"] == request_id
    return request_line


def _failing_when(original: Callable[..., Any], applies: Callable[..., bool], exc: BaseException) -> Callable[..., Any]:
    def patched(*args: Any, **kwargs: Any) -> Any:
        if applies(*args, **kwargs):
            raise exc
        return original(*args, **kwargs)

    return patched


@pytest.mark.parametrize(
    "event",
    [
        None,
        "not an event",
        [],
        {"headers": ["X-Api-Key"], "multiValueHeaders": "x", "requestContext": "ctx", "body": {"action": 1}},
        {"httpMethod": 5, "headers": {"X-Api-Key": 7}, "requestContext": {"requestId": ["x"], "identity": 3}},
    ],
)
def test_events_of_any_shape_are_answered_audited_and_logged(
    aws: Aws, capsys: pytest.CaptureFixture[str], event: Any
) -> None:
    result = handler.lambda_handler(event, LambdaContext())
    status = result["statusCode"]
    assert status in {400, 401, 403, 405}
    _guaranteed(result, aws, capsys.readouterr().out, status=status, in_s3=True)


def test_event_parsing_failure(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    only_ours = _failing_when(base64.b64decode, lambda *a, **k: k.get("validate") is True, MemoryError())
    monkeypatch.setattr(base64, "b64decode", only_ours)
    event = api.event({"action": "list_tasks"}, base64_body=True)
    result = handler.lambda_handler(event, LambdaContext())
    line = _guaranteed(result, aws, capsys.readouterr().out, status=500, in_s3=True)
    assert "MemoryError" in line["exception"]


def test_container_start_failure(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # boto3 cannot build a client without a region
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    line = _guaranteed(result, aws, capsys.readouterr().out, status=500, in_s3=False)
    assert "NoRegionError" in line["exception"]


@pytest.mark.parametrize("injected", [RecursionError("maximum recursion depth exceeded"), MemoryError()])
def test_body_parsing_failure(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, injected: BaseException
) -> None:
    monkeypatch.setattr(
        json, "loads", _failing_when(json.loads, lambda s, **k: isinstance(s, str) and '"list_tasks"' in s, injected)
    )
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    line = _guaranteed(result, aws, capsys.readouterr().out, status=500, in_s3=True)
    assert type(injected).__name__ in line["exception"]


def test_validation_failure_stores_nothing(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marked = _failing_when(json.dumps, lambda obj, **k: isinstance(obj, dict) and "boom" in obj, RecursionError())
    monkeypatch.setattr(json, "dumps", marked)
    task = {"prompt": "p", "responses": ["a", "b"], "metadata": {"boom": 1}}
    result = handler.lambda_handler(api.event({"action": "create_task", "task": task}), LambdaContext())
    line = _guaranteed(result, aws, capsys.readouterr().out, status=500, in_s3=True)
    assert line["action"] == "create_task" and "RecursionError" in line["exception"]
    assert aws.dynamodb.scan(TableName="tap-tasks-test")["Count"] == 0


def test_backing_service_failure(api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.dynamodb.delete_table(TableName="tap-tasks-test")
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    _guaranteed(result, aws, capsys.readouterr().out, status=500, in_s3=True)


def test_response_serialization_failure(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marked = _failing_when(json.dumps, lambda obj, **k: isinstance(obj, dict) and "tasks" in obj, RecursionError())
    monkeypatch.setattr(json, "dumps", marked)
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    line = _guaranteed(result, aws, capsys.readouterr().out, status=500, in_s3=True)
    assert line["error_code"] == "internal_error"


def test_audit_record_building_failure(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashlib, "sha256", _failing_when(hashlib.sha256, lambda *a, **k: True, ValueError("x")))
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    _guaranteed(result, aws, capsys.readouterr().out, status=200, in_s3=True)
    [(_, record)] = aws.audit_records()
    assert record["record_error"].startswith("ValueError") and "headers" not in record["request"]


def test_audit_writer_failure_falls_back_to_the_log(api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.s3.delete_bucket(Bucket=BUCKET)
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    out = capsys.readouterr().out
    aws.s3.create_bucket(Bucket=BUCKET)  # so the helper can look (and find nothing)
    _guaranteed(result, aws, out, status=200, in_s3=False)


class _BrokenStream(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("stdout is gone")


def test_logger_failure_writes_to_stderr(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdout", _BrokenStream())
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    _guaranteed(result, aws, capsys.readouterr().err, status=200, in_s3=True)


def test_log_line_serialization_failure_still_logs_one_parsable_line(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marked = _failing_when(
        json.dumps, lambda obj, **k: isinstance(obj, dict) and obj.get("message") == "request", RecursionError()
    )
    monkeypatch.setattr(json, "dumps", marked)
    result = handler.lambda_handler(api.event({"action": "list_tasks"}), LambdaContext())
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["message"] == "request" and line["log_error"].startswith("RecursionError")
    assert line["request_id"] == repr(result["headers"]["X-Request-Id"])
    assert result["statusCode"] == 200 and len(aws.audit_records()) == 1


def test_audit_fallback_and_logger_both_failing_still_answer(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.s3.delete_bucket(Bucket=BUCKET)
    monkeypatch.setattr("sys.stdout", _BrokenStream())
    monkeypatch.setattr("sys.stderr", _BrokenStream())
    result = handler.lambda_handler(api.event({"action": "list_tasks"}, key=API_KEY), LambdaContext())
    assert result["statusCode"] == 200 and json.loads(result["body"])["tasks"] == []
