"""A write that DynamoDB applied but whose answer was lost: botocore resends it, and the
resend, failing its condition on the first attempt's own work, is answered as the success
it was (docs/api.md, "Resent writes").

The loss is real botocore behaviour against real moto: a ``before-send`` hook registered
after moto's lets the first attempt of one operation through to moto, which applies it, then
raises the ``ReadTimeoutError`` a DynamoDB slower than the handler's read timeout causes, so
botocore's standard retry mode resends the same request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from function import model
from tests.function.support import TABLE, Api, Aws, Response, handler


def lose_first_answer(operation: str, meanwhile: Callable[[], object] = lambda: None) -> list[str]:
    """The first ``operation`` (e.g. ``"UpdateItem"``) the handler's DynamoDB client sends from
    now on reaches moto and is applied; then ``meanwhile`` runs (another request landing between
    the attempts) and the answer is lost. Returns the operations sent, resends included."""
    sent: list[str] = []

    def lose(request: Any, event_name: str, **_: Any) -> None:
        sent.append(event_name.rsplit(".", 1)[-1])
        if sent[-1] == operation and sent.count(operation) == 1:
            meanwhile()
            raise ReadTimeoutError(endpoint_url=request.url)

    handler.runtime().dynamodb.meta.events.register_last("before-send", lose)
    return sent


def audited_status(aws: Aws, response: Response) -> int:
    """The status the request's audit record holds."""
    [status] = [record["status"] for _, record in aws.audit_records() if record["request_id"] == response.request_id]
    return int(status)


def stored_tasks(aws: Aws) -> list[dict[str, Any]]:
    items = aws.dynamodb.scan(TableName=TABLE)["Items"]  # test-side check only
    return [model.public_task(item) for item in items if model.is_task(item)]


TASK = {"prompt": "Which answer is kinder?", "responses": ["A", "B"]}


def test_a_create_whose_answer_was_lost_is_201_with_the_one_task_it_stored(api: Api, aws: Aws) -> None:
    sent = lose_first_answer("PutItem")
    response = api.call("create_task", task=TASK)
    assert sent.count("PutItem") == 2  # the resend happened
    assert (response.status, audited_status(aws, response)) == (201, 201), response.body
    assert stored_tasks(aws) == [response.task]


def test_a_create_with_a_token_whose_answer_was_lost_is_201_not_a_replay(api: Api, aws: Aws) -> None:
    """DynamoDB itself answers such a resend as done (botocore sends the same
    ``ClientRequestToken``); moto cancels it, as DynamoDB does after 10 minutes."""
    sent = lose_first_answer("TransactWriteItems")
    response = api.call("create_task", task=TASK, client_token="import-7")
    assert sent.count("TransactWriteItems") == 2
    assert (response.status, audited_status(aws, response)) == (201, 201), response.body
    assert stored_tasks(aws) == [response.task]
    assert aws.raw_item(model.TOKEN_PREFIX + "import-7")["task_id"] == {"S": response.task["id"]}  # type: ignore[index]


@pytest.mark.parametrize("pending", [1, 2])
def test_a_claim_of_the_next_task_whose_answer_was_lost_gets_that_task_and_only_it(
    api: Api, aws: Aws, one_shard: None, pending: int
) -> None:
    for _ in range(pending):
        api.create()
    sent = lose_first_answer("UpdateItem")
    response = api.claim("ann-1")
    assert (response.status, audited_status(aws, response)) == (200, 200), response.body
    held = [t for t in stored_tasks(aws) if t["status"] == model.ASSIGNED]
    assert held == [response.task] and response.task["assignee"] == "ann-1" and response.task["version"] == 2
    assert sent.count("UpdateItem") == 2  # the resend, and no write to another task


def test_a_claim_by_id_whose_answer_was_lost_is_applied_once(api: Api, aws: Aws) -> None:
    task = api.create()
    sent = lose_first_answer("UpdateItem")
    response = api.claim("ann-1", task["id"])
    assert sent.count("UpdateItem") == 2
    assert (response.status, audited_status(aws, response)) == (200, 200), response.body
    assert response.task["version"] == 2  # one change, one version: the resend did not apply it again
    assert stored_tasks(aws) == [response.task]


def test_a_submit_whose_answer_was_lost_is_200_with_the_feedback_stored(api: Api, aws: Aws) -> None:
    task = api.create()
    assert api.claim("ann-1", task["id"]).status == 200
    sent = lose_first_answer("UpdateItem")
    response = api.call("submit_feedback", task_id=task["id"], annotator_id="ann-1", feedback={"preferred": 1})
    assert sent.count("UpdateItem") == 2
    assert (response.status, audited_status(aws, response)) == (200, 200), response.body
    assert response.task["feedback"] == {"preferred": 1} and response.task["version"] == 3
    assert stored_tasks(aws) == [response.task]


def test_a_release_whose_answer_was_lost_is_200_and_the_task_pending(api: Api, aws: Aws) -> None:
    task = api.create()
    assert api.claim("ann-1", task["id"]).status == 200
    sent = lose_first_answer("UpdateItem")
    response = api.call("release_task", task_id=task["id"], annotator_id="ann-1")
    assert sent.count("UpdateItem") == 2
    assert (response.status, audited_status(aws, response)) == (200, 200), response.body
    assert response.task["status"] == model.PENDING and response.task["version"] == 3
    assert stored_tasks(aws) == [response.task]


def test_a_release_is_still_200_when_another_annotator_claimed_the_task_between_the_attempts(
    api: Api, aws: Aws
) -> None:
    """The answer is the task as it is now: already someone else's."""
    task = api.create()
    assert api.claim("ann-1", task["id"]).status == 200
    other = handler.Runtime(handler.s.Settings.from_env())  # another warm container
    claims: list[int] = []

    def claim_meanwhile() -> None:
        event = api.event({"action": "claim_task", "annotator_id": "ann-2"})
        claims.append(other.handle(event, None)["statusCode"])

    lose_first_answer("UpdateItem", claim_meanwhile)
    response = api.call("release_task", task_id=task["id"], annotator_id="ann-1")
    assert claims == [200]
    assert (response.status, audited_status(aws, response)) == (200, 200), response.body
    assert response.task["assignee"] == "ann-2" and response.task["version"] == 4
    assert stored_tasks(aws) == [response.task]


def test_a_refusal_is_still_a_refusal_after_a_resend(api: Api, aws: Aws) -> None:
    """The first attempt applied nothing (its condition failed too): the resend's failure is
    not its own work, and the caller hears why."""
    task = api.create()
    assert api.claim("ann-1", task["id"]).status == 200
    sent = lose_first_answer("UpdateItem")
    response = api.call("release_task", task_id=task["id"], annotator_id="ann-2")
    assert sent.count("UpdateItem") == 2
    assert (response.status, response.error["code"]) == (409, "task_assigned")
    assert [t["assignee"] for t in stored_tasks(aws)] == ["ann-1"]
