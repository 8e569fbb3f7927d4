"""create_task, get_task and list_tasks."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime

import pytest

from tests.function.support import Api, Aws

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
PUBLIC_FIELDS = {
    "id",
    "status",
    "kind",
    "prompt",
    "responses",
    "priority",
    "metadata",
    "created_at",
    "updated_at",
    "version",
}


def test_create_applies_defaults_and_returns_the_public_task(api: Api, aws: Aws) -> None:
    response = api.call("create_task", task={"prompt": "Which is better?", "responses": ["A", "B"]})
    assert response.status == 201
    task = response.task
    assert set(task) == PUBLIC_FIELDS
    assert task["status"] == "pending" and task["kind"] == "pairwise" and task["priority"] == 5
    assert task["metadata"] == {} and task["version"] == 1
    assert task["created_at"] == task["updated_at"] and ISO_UTC.match(task["created_at"])
    stored = aws.raw_item(task["id"])
    assert stored["queue_key"]["S"] == f"4#{task['created_at']}#{task['id']}"  # 9 - priority 5


def test_create_with_every_field(api: Api) -> None:
    metadata = {"source": "batch-7", "score": 0.25, "tags": ["a", "b"], "nested": {"": None}}
    task = api.create(prompt="Rank these", responses=["x", "y", "z"], kind="ranking", priority=9, metadata=metadata)
    assert (task["kind"], task["priority"], task["responses"]) == ("ranking", 9, ["x", "y", "z"])
    assert task["metadata"] == metadata  # floats, empty keys and nulls survive exactly


@pytest.mark.parametrize(
    ("task", "code", "fragment"),
    [
        ({"responses": ["a", "b"]}, "missing_field", "task.prompt is required"),
        ({"prompt": "", "responses": ["a", "b"]}, "invalid_field", "task.prompt must be 1 to 20000 characters (got 0)"),
        (
            {"prompt": "p" * 20_001, "responses": ["a", "b"]},
            "invalid_field",
            "task.prompt must be 1 to 20000 characters (got 20001)",
        ),
        ({"prompt": 5, "responses": ["a", "b"]}, "invalid_field", "task.prompt must be a string (got number)"),
        ({"prompt": "p"}, "missing_field", "task.responses is required"),
        (
            {"prompt": "p", "responses": ["a"]},
            "invalid_field",
            "task.responses must be a list of 2 to 8 strings (got 1 items)",
        ),
        ({"prompt": "p", "responses": ["r"] * 9}, "invalid_field", "(got 9 items)"),
        ({"prompt": "p", "responses": "ab"}, "invalid_field", "(got string)"),
        (
            {"prompt": "p", "responses": ["a", ""]},
            "invalid_field",
            "task.responses[1] must be 1 to 20000 characters (got 0)",
        ),
        ({"prompt": "p", "responses": ["a", "b" * 20_001]}, "invalid_field", "task.responses[1] must be 1 to 20000"),
        ({"prompt": "p", "responses": ["a", 2]}, "invalid_field", "task.responses[1] must be a string"),
        (
            {"prompt": "p", "responses": ["a", "b"], "kind": "vote"},
            "invalid_field",
            "task.kind must be one of pairwise, ranking, rating (got 'vote')",
        ),
        (
            {"prompt": "p", "responses": ["a", "b"], "priority": 10},
            "invalid_field",
            "task.priority must be between 0 and 9 (got 10)",
        ),
        (
            {"prompt": "p", "responses": ["a", "b"], "priority": -1},
            "invalid_field",
            "task.priority must be between 0 and 9 (got -1)",
        ),
        (
            {"prompt": "p", "responses": ["a", "b"], "priority": 5.0},
            "invalid_field",
            "task.priority must be an integer (got number)",
        ),
        (
            {"prompt": "p", "responses": ["a", "b"], "priority": True},
            "invalid_field",
            "task.priority must be an integer (got boolean)",
        ),
        ({"prompt": "p", "responses": ["a", "b"], "metadata": []}, "invalid_field", "task.metadata must be an object"),
        (
            {"prompt": "p", "responses": ["a", "b"], "metadata": {"k": "v" * 4_100}},
            "invalid_field",
            "task.metadata must be at most 4096 bytes as JSON (got 4108)",
        ),
        ({"prompt": "p", "responses": ["a", "b"], "owner": "me"}, "unknown_field", "unknown field(s) in task: owner"),
    ],
)
def test_create_rejects_invalid_tasks_precisely(api: Api, task: dict, code: str, fragment: str) -> None:
    response = api.call("create_task", task=task)
    assert response.status == 400
    assert response.error["code"] == code
    assert fragment in response.error["message"]


def test_create_limits_are_inclusive(api: Api) -> None:
    task = api.create(
        prompt="p" * 20_000, responses=["r" * 20_000] * 2 + ["s"] * 6, priority=0, metadata={"k": "v" * 4_088}
    )
    assert len(task["responses"]) == 8 and task["priority"] == 0


def test_create_rejects_unknown_top_level_fields_and_bad_tokens(api: Api) -> None:
    task = {"prompt": "p", "responses": ["a", "b"]}
    unknown = api.call("create_task", task=task, tsk=task)
    assert (unknown.status, unknown.error["code"]) == (400, "unknown_field")
    assert "unknown field(s) in request: tsk" in unknown.error["message"]
    long_token = api.call("create_task", task=task, client_token="t" * 65)
    assert (
        long_token.status == 400 and "client_token must be 1 to 64 characters (got 65)" in long_token.error["message"]
    )
    assert api.call("create_task", task="p").error["message"] == "task must be an object"


def test_client_token_replay_returns_the_original_task(api: Api, aws: Aws) -> None:
    first = api.call("create_task", task={"prompt": "p", "responses": ["a", "b"]}, client_token="batch-1/row-1")
    # Same task with the defaults spelled out is the same task.
    again = api.call(
        "create_task",
        task={"prompt": "p", "responses": ["a", "b"], "kind": "pairwise", "priority": 5, "metadata": {}},
        client_token="batch-1/row-1",
    )
    assert (first.status, again.status) == (201, 200)
    assert again.task == first.task
    listed = api.call("list_tasks").body["tasks"]
    assert [t["id"] for t in listed] == [first.task["id"]]  # no second task
    token_item = aws.raw_item("token#batch-1/row-1")
    assert token_item["task_id"]["S"] == first.task["id"] and "status" not in token_item


def test_client_token_replay_after_the_task_moved_on_returns_its_current_state(api: Api) -> None:
    task = api.create(client_token="t-1")
    api.claim("ann-1", task["id"])
    again = api.call(
        "create_task", task={"prompt": "Which answer is kinder?", "responses": ["A", "B"]}, client_token="t-1"
    )
    assert again.status == 200 and again.task["id"] == task["id"] and again.task["status"] == "assigned"


def test_client_token_reuse_with_another_task_is_409(api: Api) -> None:
    api.create(client_token="t-2", priority=3)
    response = api.call(
        "create_task", task={"prompt": "Which answer is kinder?", "responses": ["A", "B"]}, client_token="t-2"
    )
    assert (response.status, response.error["code"]) == (409, "idempotency_conflict")
    assert "client_token" in response.error["message"]


def test_get_task(api: Api) -> None:
    task = api.create()
    response = api.call("get_task", task_id=task["id"])
    assert response.status == 200 and response.task == task


def test_get_task_errors(api: Api) -> None:
    missing = api.call("get_task", task_id="00000000-0000-4000-8000-000000000000")
    assert (missing.status, missing.error["code"]) == (404, "task_not_found")
    assert "00000000-0000-4000-8000-000000000000" in missing.error["message"]
    api.create(client_token="secret-token")
    for bad in ("token#secret-token", "", "ABC", 5):
        response = api.call("get_task", task_id=bad)
        assert (response.status, response.error["code"]) == (400, "invalid_field"), bad
        assert response.error["message"].startswith("task_id must be a task id")
    assert api.call("get_task").error["code"] == "missing_field"


def test_list_defaults_to_pending_newest_first(api: Api) -> None:
    tasks = [api.create(prompt=f"p{i}") for i in range(3)]
    api.claim("ann-1", tasks[1]["id"])
    response = api.call("list_tasks")
    assert response.status == 200
    assert [t["id"] for t in response.body["tasks"]] == [tasks[2]["id"], tasks[0]["id"]]
    assert response.body["next_token"] is None
    assigned = api.call("list_tasks", status="assigned").body["tasks"]
    assert [t["id"] for t in assigned] == [tasks[1]["id"]]
    assert all("queue_key" not in t and "pending_key" not in t for t in response.body["tasks"] + assigned)


def test_list_pages_through_everything_once(api: Api) -> None:
    created = [api.create(prompt=f"p{i}")["id"] for i in range(7)]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        fields = {"limit": 3, **({"next_token": token} if token else {})}
        body = api.call("list_tasks", **fields).body
        assert len(body["tasks"]) <= 3
        seen += [t["id"] for t in body["tasks"]]
        pages += 1
        token = body["next_token"]
        if token is None:
            break
        assert isinstance(token, str)
    assert seen == list(reversed(created)) and pages >= 3


def _token(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "!!!!",
        _token(["not", "a", "dict"]),
        _token({"id": "x", "status": "pending"}),
        _token({"id": "00000000-0000-4000-8000-000000000000", "status": "pending", "created_at": "yesterday"}),
        _token({"id": "token#t", "status": "pending", "created_at": "2024-01-01T00:00:00.000000Z"}),
        _token({"id": "00000000-0000-4000-8000-000000000000", "status": "pending", "created_at": 1}),
        # "$" also matches before a final newline: the checks must match the whole string.
        _token(
            {
                "id": "00000000-0000-4000-8000-000000000000\n",
                "status": "pending",
                "created_at": "2024-01-01T00:00:00.000000Z",
            }
        ),
        _token(
            {
                "id": "00000000-0000-4000-8000-000000000000",
                "status": "pending",
                "created_at": "2024-01-01T00:00:00.000000Z\n",
            }
        ),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_list_rejects_a_forged_next_token(api: Api, token: str) -> None:
    response = api.call("list_tasks", next_token=token)
    assert (response.status, response.error["code"]) == (400, "invalid_field")
    assert response.error["message"] == "next_token is not a token returned by list_tasks for status 'pending'"


def test_list_rejects_a_token_of_another_status(api: Api) -> None:
    for i in range(3):
        api.create(prompt=f"p{i}")
    token = api.call("list_tasks", limit=1).body["next_token"]
    assert token
    assert api.call("list_tasks", limit=1, next_token=token).status == 200
    assert api.call("list_tasks", status="completed", next_token=token).status == 400


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"status": "done"}, "status must be one of pending, assigned, completed (got 'done')"),
        ({"limit": 0}, "limit must be between 1 and 100 (got 0)"),
        ({"limit": 101}, "limit must be between 1 and 100 (got 101)"),
        ({"limit": "5"}, "limit must be an integer (got string)"),
        ({"order": "asc"}, "unknown field(s) in request: order"),
    ],
)
def test_list_rejects_invalid_fields(api: Api, fields: dict, fragment: str) -> None:
    response = api.call("list_tasks", **fields)
    assert response.status == 400 and fragment in response.error["message"]


def test_times_are_utc_and_ordered(api: Api) -> None:
    task = api.create()
    claimed = api.claim("ann", task["id"]).task
    for name in ("created_at", "updated_at", "lease_expires_at"):
        assert ISO_UTC.match(claimed[name])
    created = datetime.fromisoformat(claimed["created_at"].replace("Z", "+00:00"))
    lease = datetime.fromisoformat(claimed["lease_expires_at"].replace("Z", "+00:00"))
    updated = datetime.fromisoformat(claimed["updated_at"].replace("Z", "+00:00"))
    assert created <= updated and (lease - updated).total_seconds() == 30 * 60
