"""The request pipeline: method, size, key, JSON, action, error shape, order."""

from __future__ import annotations

import json

import pytest

from tests.function.support import API_KEY, Api, Aws, LambdaContext, handler

MAX_BODY = 256 * 1024


def _error_shape_ok(response, status: int, code: str) -> None:
    assert response.status == status, response.body
    assert set(response.body) == {"error"}
    assert set(response.error) == {"code", "message", "request_id"}
    assert response.error["code"] == code
    assert response.error["request_id"] == response.request_id == response.headers["X-Request-Id"]
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", ""])
def test_only_post_is_allowed(api: Api, method: str) -> None:
    response = api.send(api.event({"action": "list_tasks"}, method=method))
    _error_shape_ok(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"
    assert "use POST" in response.error["message"]


def test_body_over_256_kb_is_413_and_at_the_limit_is_accepted(api: Api) -> None:
    over = api.send(api.event(raw="x" * (MAX_BODY + 1)))
    _error_shape_ok(over, 413, "payload_too_large")
    assert str(MAX_BODY + 1) in over.error["message"] and str(MAX_BODY) in over.error["message"]

    prompt_padding = MAX_BODY - len(json.dumps({"action": "list_tasks", "status": "pending", "pad": ""}))
    at_limit = json.dumps({"action": "list_tasks", "status": "pending", "pad": "y" * prompt_padding})
    assert len(at_limit.encode()) == MAX_BODY
    response = api.send(api.event(raw=at_limit))
    # Past the size check: the unknown field is what is wrong now.
    _error_shape_ok(response, 400, "unknown_field")


def test_body_size_counts_utf8_bytes_not_characters(api: Api) -> None:
    body = "é" * (MAX_BODY // 2 + 1)  # fewer characters than the limit, more bytes
    _error_shape_ok(api.send(api.event(raw=body)), 413, "payload_too_large")


def test_missing_key_is_401_and_wrong_key_is_403(api: Api) -> None:
    _error_shape_ok(api.call("list_tasks", key=None), 401, "missing_api_key")
    _error_shape_ok(api.call("list_tasks", key=""), 401, "missing_api_key")
    _error_shape_ok(api.call("list_tasks", key=API_KEY + "x"), 403, "invalid_api_key")


@pytest.mark.parametrize("header", ["X-Api-Key", "x-api-key", "X-API-KEY", "x-Api-kEy"])
def test_key_header_lookup_is_case_insensitive(api: Api, header: str) -> None:
    response = api.send(api.event({"action": "list_tasks"}, key=None, headers={header: API_KEY}))
    assert response.status == 200, response.body


def test_key_from_multi_value_headers_only(api: Api) -> None:
    event = api.event({"action": "list_tasks"}, key=None)
    event["headers"] = None
    event["multiValueHeaders"] = {"X-API-Key": [API_KEY]}
    assert api.send(event).status == 200


@pytest.mark.parametrize(
    ("event_changes", "status"),
    [
        # Each row breaks every later check too, so only the first one may answer.
        ({"method": "GET", "raw": "x" * (MAX_BODY + 1), "key": None}, 405),
        ({"raw": "x" * (MAX_BODY + 1), "key": None}, 413),
        ({"raw": "{not json", "key": None}, 401),
        ({"raw": "{not json", "key": "wrong"}, 403),
        ({"raw": "{not json"}, 400),
    ],
)
def test_checks_run_in_documented_order(api: Api, event_changes: dict, status: int) -> None:
    assert api.send(api.event(**event_changes)).status == status


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("{not json", "invalid_json", "not valid JSON"),
        ("", "invalid_json", "empty"),
        ('{"action": NaN}', "invalid_json", "NaN"),
        ("[1, 2]", "invalid_request", "JSON object"),
        ('"list_tasks"', "invalid_request", "JSON object"),
        ("{}", "missing_field", "action is required"),
        ('{"action": "drop_table"}', "unknown_action", "'drop_table'"),
        ('{"action": 7}', "unknown_action", "expected one of create_task"),
        ("[" * 100_000 + "]" * 100_000, "invalid_field", "request body[0][0]"),
    ],
)
def test_bad_bodies_are_400_with_a_precise_message(api: Api, raw: str, code: str, fragment: str) -> None:
    response = api.send(api.event(raw=raw))
    _error_shape_ok(response, 400, code)
    assert fragment in response.error["message"]


def test_missing_body_is_400(api: Api) -> None:
    _error_shape_ok(api.send(api.event(None)), 400, "invalid_json")


def test_base64_encoded_body_is_decoded(api: Api) -> None:
    event = api.event({"action": "create_task", "task": {"prompt": "p ✓", "responses": ["a", "b"]}}, base64_body=True)
    response = api.send(event)
    assert response.status == 201
    assert response.task["prompt"] == "p ✓"


def test_invalid_base64_body_is_400(api: Api) -> None:
    event = api.event(raw="%%% not base64 %%%")
    event["isBase64Encoded"] = True
    response = api.send(event)
    _error_shape_ok(response, 400, "invalid_json")
    assert "base64" in response.error["message"]


def test_base64_body_size_is_checked_after_decoding(api: Api) -> None:
    event = api.event(raw="z" * (MAX_BODY + 1), base64_body=True)
    _error_shape_ok(api.send(event), 413, "payload_too_large")


def test_internal_failure_is_a_generic_500_without_internals(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.dynamodb.delete_table(TableName="tap-tasks-test")  # e.g. a wrong DYNAMODB_TABLE
    response = api.call("list_tasks")
    _error_shape_ok(response, 500, "internal_error")
    assert response.error["message"] == "internal error"
    text = json.dumps(response.body)
    assert "Traceback" not in text and "ResourceNotFound" not in text and "tap-tasks-test" not in text
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    request_line = next(line for line in lines if line["message"] == "request")
    assert request_line["status"] == 500 and request_line["level"] == "ERROR"
    assert "ResourceNotFoundException" in request_line["exception"]  # the details are in the log


def test_missing_configuration_is_500(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DYNAMODB_TABLE")
    handler.reset_caches()
    response = api.call("list_tasks")
    _error_shape_ok(response, 500, "internal_error")
    assert "DYNAMODB_TABLE" in capsys.readouterr().out
    assert "DYNAMODB_TABLE" not in json.dumps(response.body)


def test_event_without_request_context_uses_the_lambda_request_id(api: Api) -> None:
    event = api.event({"action": "list_tasks"})
    del event["requestContext"]
    result = handler.lambda_handler(event, LambdaContext())
    assert result["statusCode"] == 200
    assert result["headers"]["X-Request-Id"] == LambdaContext.aws_request_id
