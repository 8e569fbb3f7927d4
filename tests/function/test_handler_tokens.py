"""Idempotency tokens expire: a replay inside the window returns the original task, after it
the token is free again, and every token item carries the table's TTL attribute."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

from function import settings
from tests.function.support import TABLE, Api, Aws

TASK = {"prompt": "Which answer is kinder?", "responses": ["A", "B"]}
WINDOW = settings.TOKEN_REPLAY_WINDOW


def _age_token(aws: Aws, token: str, by: float) -> None:
    """Move the token's creation ``by`` seconds into the past, as time passing would."""
    item = aws.raw_item(f"token#{token}")
    assert item is not None
    created = datetime.strptime(item["created_at"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    aged = datetime.fromtimestamp(created.timestamp() - by, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    aws.dynamodb.update_item(
        TableName=TABLE,
        Key={"id": {"S": f"token#{token}"}},
        UpdateExpression="SET created_at = :at",
        ExpressionAttributeValues={":at": {"S": aged}},
    )


def test_token_item_expires_at_the_end_of_the_replay_window(api: Api, aws: Aws) -> None:
    before = datetime.now(UTC).timestamp()
    api.create(client_token="ttl-1")
    after = datetime.now(UTC).timestamp()
    item = aws.raw_item("token#ttl-1")
    assert item is not None
    expires = int(item["expires_at"]["N"])
    assert int(before + WINDOW.total_seconds()) <= expires <= int(after + WINDOW.total_seconds())


def test_replay_just_inside_the_window_returns_the_original_task(api: Api, aws: Aws) -> None:
    original = api.create(client_token="ttl-2")
    _age_token(aws, "ttl-2", WINDOW.total_seconds() - 60)
    again = api.call("create_task", task=TASK, client_token="ttl-2")
    assert again.status == HTTPStatus.OK and again.task["id"] == original["id"]
    assert len(api.call("list_tasks").body["tasks"]) == 1


def test_after_the_window_the_token_is_free_again(api: Api, aws: Aws) -> None:
    original = api.create(client_token="ttl-3")
    _age_token(aws, "ttl-3", WINDOW.total_seconds() + 60)
    # Even with another task: the old one is no longer what the token means.
    again = api.call("create_task", task={**TASK, "priority": 2}, client_token="ttl-3")
    assert again.status == HTTPStatus.CREATED and again.task["id"] != original["id"]
    token = aws.raw_item("token#ttl-3")
    assert token is not None and token["task_id"]["S"] == again.task["id"]
    assert int(token["expires_at"]["N"]) > datetime.now(UTC).timestamp() + WINDOW.total_seconds() - 60
    replay = api.call("create_task", task={**TASK, "priority": 2}, client_token="ttl-3")
    assert replay.status == HTTPStatus.OK and replay.task["id"] == again.task["id"]
