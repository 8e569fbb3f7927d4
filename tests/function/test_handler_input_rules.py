"""The input rules of docs/api.md: nesting depth, valid Unicode, duplicate keys,
null means absent, undecodable key headers; each against the real handler."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.function.support import API_KEY, Api, Aws, handler, record_calls

DEPTH = 32  # docs/api.md, "Input rules"
TASK = {"prompt": "p", "responses": ["a", "b"]}


def _nested(levels: int) -> Any:
    """``levels`` objects, each holding the next under key ``n``."""
    value: Any = {}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


def _items(aws: Aws) -> int:
    return aws.dynamodb.scan(TableName="tap-tasks-test", Select="COUNT")["Count"]


def test_metadata_at_the_depth_limit_is_stored_and_one_deeper_is_400_before_any_write(api: Api, aws: Aws) -> None:
    # body (1) > task (2) > metadata (3) > ... : metadata may nest DEPTH - 2 levels.
    assert api.create(metadata=_nested(DEPTH - 2))["metadata"] == _nested(DEPTH - 2)
    stored = _items(aws)
    calls = record_calls(handler.runtime())
    response = api.call("create_task", task={**TASK, "metadata": _nested(DEPTH - 1)})
    assert (response.status, response.error["code"]) == (400, "invalid_field")
    assert response.error["message"].startswith("task.metadata.n.n.")
    assert f"at most {DEPTH} levels" in response.error["message"]
    assert _items(aws) == stored and calls == ["s3.PutObject"]  # nothing written but the audit


@pytest.mark.parametrize("levels", [1_000, 1_500, 40_000])  # 40,000 levels: 240 KB, under the size limit
def test_hostile_nesting_is_400_naming_the_field_audited_and_logged(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str], levels: int
) -> None:
    raw = '{"action":"create_task","task":{"prompt":"p","responses":["a","b"],"metadata":' + (
        '{"k":' * levels + "1" + "}" * levels + "}}"
    )
    response = api.send(api.event(raw=raw))
    assert (response.status, response.error["code"]) == (400, "invalid_field")
    assert response.error["message"].startswith("task.metadata.k.k")
    assert _items(aws) == 0
    [(_, record)] = aws.audit_records()
    assert record["status"] == 400 and record["request"]["body"]["raw_excerpt"].startswith('{"action"')
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["status"] for line in lines if line["message"] == "request"] == [400]


def test_deep_arrays_name_their_index(api: Api) -> None:
    raw = '{"action":"list_tasks","status":' + "[" * 40 + "]" * 40 + "}"
    response = api.send(api.event(raw=raw))
    # body (level 1) > status > 31 arrays at index 0: the 32nd array is one too deep
    assert response.error["message"].startswith("status" + "[0]" * (DEPTH - 1) + " is nested too deeply")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"action":"create_task","task":{"prompt":"\\udc80","responses":["a","b"]}}', "task.prompt"),
        ('{"action":"create_task","task":{"prompt":"p","responses":["a","\\ud800x"]}}', "task.responses[1]"),
        (
            '{"action":"create_task","task":{"prompt":"p","responses":["a","b"],"metadata":{"x":["\\udc80"]}}}',
            "task.metadata.x[0]",
        ),
        (
            '{"action":"create_task","task":{"prompt":"p","responses":["a","b"],"metadata":{"\\udfff":1}}}',
            "task.metadata['\\udfff']",
        ),
        ('{"action":"claim_task","annotator_id":"ann\\ud83d"}', "annotator_id"),
    ],
)
def test_lone_surrogates_are_400_naming_the_field_and_the_audit_still_reaches_s3(
    api: Api, aws: Aws, raw: str, field: str
) -> None:
    response = api.send(api.event(raw=raw))
    assert (response.status, response.error["code"]) == (400, "invalid_field")
    assert response.error["message"].startswith(f"{field} must be valid Unicode")
    [(_, record)] = aws.audit_records()  # in S3, not only in the fallback log
    assert record["status"] == 400 and _items(aws) == 0


def test_a_surrogate_pair_escape_is_one_valid_character(api: Api) -> None:
    raw = '{"action":"create_task","task":{"prompt":"\\ud83d\\ude00","responses":["a","b"]}}'
    response = api.send(api.event(raw=raw))
    assert response.status == 201 and response.task["prompt"] == "\U0001f600"


@pytest.mark.parametrize(
    "raw",
    [
        '{"action":"get_task","action":"create_task","task":{"prompt":"p","responses":["a","b"]}}',
        '{"action":"create_task","task":{"prompt":"p","prompt":"q","responses":["a","b"]}}',
        '{"action":"create_task","task":{"prompt":"p","responses":["a","b"],"metadata":{"k":1,"k":1}}}',
    ],
)
def test_duplicate_keys_are_invalid_json_and_nothing_runs(api: Api, aws: Aws, raw: str) -> None:
    response = api.send(api.event(raw=raw))
    assert (response.status, response.error["code"]) == (400, "invalid_json")
    assert "twice in one object" in response.error["message"]
    assert _items(aws) == 0


def test_null_on_optional_fields_means_absent(api: Api) -> None:
    task = api.call(
        "create_task",
        task={**TASK, "kind": None, "priority": None, "metadata": None},
        client_token=None,
    )
    assert task.status == 201
    assert (task.task["kind"], task.task["priority"], task.task["metadata"]) == ("pairwise", 5, {})
    listed = api.call("list_tasks", status=None, limit=None, next_token=None)
    assert listed.status == 200 and [t["id"] for t in listed.body["tasks"]] == [task.task["id"]]
    claimed = api.call("claim_task", annotator_id="ann", task_id=None)
    assert claimed.status == 200 and claimed.task["id"] == task.task["id"]
    done = api.call(
        "submit_feedback",
        task_id=task.task["id"],
        annotator_id="ann",
        feedback={"preferred": 1, "ranking": None, "ratings": None, "rationale": None},
    )
    assert done.status == 200 and done.task["feedback"] == {"preferred": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": None}, "action is required"),
        ({"action": "create_task", "task": None}, "task is required"),
        ({"action": "create_task", "task": {"prompt": None, "responses": ["a", "b"]}}, "task.prompt is required"),
        ({"action": "get_task", "task_id": None}, "task_id is required"),
        ({"action": "claim_task", "annotator_id": None}, "annotator_id is required"),
        (
            {
                "action": "submit_feedback",
                "task_id": "00000000-0000-4000-8000-000000000000",
                "annotator_id": "a",
                "feedback": None,
            },
            "feedback is required",
        ),
    ],
)
def test_null_on_required_fields_is_missing_field(api: Api, body: dict[str, Any], message: str) -> None:
    response = api.send(api.event(body))
    assert (response.status, response.error["code"]) == (400, "missing_field")
    assert response.error["message"].startswith(message)


def test_null_on_a_field_the_action_does_not_take_is_still_unknown(api: Api) -> None:
    response = api.call("list_tasks", order=None)
    assert (response.status, response.error["code"]) == (400, "unknown_field")


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (API_KEY + "\udc80", 403),  # a lone surrogate: not encodable, so no key
        (b"\xff\xfe" + API_KEY.encode(), 403),  # bytes that are not UTF-8
        (b"", 401),
    ],
)
def test_an_undecodable_key_header_is_treated_like_a_wrong_key(
    api: Api, aws: Aws, value: str | bytes, status: int
) -> None:
    event = api.event({"action": "list_tasks"}, key=None)
    event["headers"]["X-Api-Key"] = value
    event["multiValueHeaders"]["X-Api-Key"] = [value]
    response = api.send(event)
    assert response.status == status
    [(_, record)] = aws.audit_records()
    assert record["request"]["headers"]["x-api-key"] == "[REDACTED]"


def test_a_correct_key_sent_as_utf8_bytes_is_accepted(api: Api) -> None:
    event = api.event({"action": "list_tasks"}, key=None)
    event["headers"]["X-Api-Key"] = API_KEY.encode()
    event["multiValueHeaders"] = None
    assert api.send(event).status == 200
