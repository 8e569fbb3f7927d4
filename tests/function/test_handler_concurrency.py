"""50 annotators claiming at once: never the same task twice.

50 threads run the real handler, released at once by a barrier, spread over 10
containers (``Runtime``: own botocore session and clients; 50 would prove nothing
more, since the guarantee comes from the conditional writes).

moto's in-process DynamoDB evaluates a condition and applies the write as
separate Python steps, so under threads it lets two conditional writes on the
same item both pass -- something DynamoDB never does (conditional writes are
atomic per item). Without the ``linearizable_dynamodb`` fixture the
single-task race below sees several "winners" from moto alone. The fixture makes
each moto DynamoDB operation atomic, which is the guarantee the handler relies
on; the handler itself runs unchanged. The lock is taken in moto's request
handler as well as in its backend: ``DynamoHandler.update_item`` deep-copies the
stored item outside the backend call, and another thread's write changing it
meanwhile failed the copy ("dictionary changed size during iteration", seen
under Python 3.12).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from testkit.mixed_load import atomic_dynamodb
from tests.function.support import TABLE, Api, Aws, LambdaContext, handler

ANNOTATORS = 50
CONTAINERS = 10


@pytest.fixture(autouse=True)
def linearizable_dynamodb() -> Iterator[None]:
    """One lock around each moto DynamoDB operation, request and backend: per-item
    atomicity, as the real service provides."""
    with atomic_dynamodb():
        yield


def _race(api: Api, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    settings = handler.s.Settings.from_env()
    containers = [handler.Runtime(settings) for _ in range(CONTAINERS)]
    events = [api.event(body) for body in bodies]
    barrier = threading.Barrier(len(bodies))

    def run(i: int) -> tuple[int, dict[str, Any]]:
        barrier.wait()
        result = containers[i % CONTAINERS].handle(events[i], LambdaContext())
        return result["statusCode"], json.loads(result["body"])

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(run, range(len(bodies))))


def _assignees(aws: Aws) -> dict[str, str]:
    tasks = aws.dynamodb.query(
        TableName=TABLE,
        IndexName="status-created-index",
        KeyConditionExpression="#s = :a",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":a": {"S": "assigned"}},
    )["Items"]
    return {t["id"]["S"]: t["assignee"]["S"] for t in tasks}


def test_fifty_annotators_claiming_the_queue_never_share_a_task(api: Api, aws: Aws) -> None:
    created = [api.create(prompt=f"p{i}", priority=i % 10)["id"] for i in range(20)]
    results = _race(api, [{"action": "claim_task", "annotator_id": f"ann-{i:02d}"} for i in range(ANNOTATORS)])

    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {200, 404, 409}, statuses
    assert statuses[200] >= 1
    won = [body["task"] for status, body in results if status == 200]
    assert len({t["id"] for t in won}) == len(won), "a task was handed to two annotators"
    assert len({t["assignee"] for t in won}) == len(won)
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "claim_contention"
    # The table agrees with the responses: each assigned task has exactly the
    # annotator that was told it won, and nobody else holds anything.
    assert _assignees(aws) == {t["id"]: t["assignee"] for t in won}
    assert set(_assignees(aws)) <= set(created)


def test_fifty_annotators_claiming_one_task_exactly_one_wins(api: Api, aws: Aws) -> None:
    task_id = api.create()["id"]
    results = _race(
        api, [{"action": "claim_task", "annotator_id": f"ann-{i:02d}", "task_id": task_id} for i in range(ANNOTATORS)]
    )
    winners = [body["task"]["assignee"] for status, body in results if status == 200]
    losers = [body["error"]["code"] for status, body in results if status != 200]
    assert len(winners) == 1
    assert losers == ["task_assigned"] * (ANNOTATORS - 1)
    assert _assignees(aws) == {task_id: winners[0]}
    assert aws.raw_item(task_id)["version"]["N"] == "2"  # one write got through


def test_concurrent_create_with_one_client_token_makes_one_task(api: Api, aws: Aws) -> None:
    body = {"action": "create_task", "task": {"prompt": "p", "responses": ["a", "b"]}, "client_token": "same"}
    results = _race(api, [body] * 10)
    assert {status for status, _ in results} <= {200, 201, 409}
    created = [b["task"]["id"] for status, b in results if status == 201]
    replayed = {b["task"]["id"] for status, b in results if status == 200}
    assert len(created) == 1 and replayed <= set(created)
    assert len(api.call("list_tasks").body["tasks"]) == 1
