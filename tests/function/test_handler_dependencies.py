"""AWS usage: calls per action on the warm path, allowed operations, outages -> 503.

Calls are counted with botocore's ``before-call`` event on the handler's own
clients. Outages are injected below the handler at the transport
(``before-send``, registered ahead of moto), so botocore's real retry logic runs.
"""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import Any

import botocore
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.loaders import JSONFileLoader
from moto.core import loaders as moto_loaders

from tests.function.support import BUCKET, Api, Aws, handler, record_calls

# What the stack's IAM policy grants (TransactWriteItems is authorised as the PutItem it contains).
ALLOWED = {
    "dynamodb.GetItem",
    "dynamodb.PutItem",
    "dynamodb.UpdateItem",
    "dynamodb.Query",
    "dynamodb.TransactWriteItems",
    "s3.PutObject",
    "secretsmanager.GetSecretValue",
}


@pytest.fixture
def warm(api: Api) -> list[str]:
    """A warm container (secret cached) and the list its calls go into."""
    assert api.call("list_tasks").status == 200
    calls = record_calls(handler.runtime())
    return calls


def _calls_for(calls: list[str], send: Any) -> list[str]:
    calls.clear()
    send()
    return list(calls)


def test_warm_path_uses_at_most_three_calls_per_action(api: Api, warm: list[str], one_shard: None) -> None:
    """On a queue deep enough that the claim's shard holds tasks (here: one shard)."""
    task = {"prompt": "p", "responses": ["a", "b"]}
    seen: dict[str, list[str]] = {}
    seen["create"] = _calls_for(warm, lambda: api.call("create_task", task=task))
    seen["create+token"] = _calls_for(warm, lambda: api.call("create_task", task=task, client_token="t"))
    seen["create replay"] = _calls_for(warm, lambda: api.call("create_task", task=task, client_token="t"))
    task_id = api.call("list_tasks").body["tasks"][0]["id"]
    seen["get"] = _calls_for(warm, lambda: api.call("get_task", task_id=task_id))
    seen["list"] = _calls_for(warm, lambda: api.call("list_tasks"))
    seen["claim next"] = _calls_for(warm, lambda: api.claim("ann-1"))
    seen["claim by id"] = _calls_for(warm, lambda: api.claim("ann-2", task_id))
    seen["release"] = _calls_for(warm, lambda: api.call("release_task", task_id=task_id, annotator_id="ann-2"))
    api.claim("ann-2", task_id)
    seen["submit"] = _calls_for(
        warm, lambda: api.call("submit_feedback", task_id=task_id, annotator_id="ann-2", feedback={"preferred": 0})
    )
    seen["rejected"] = _calls_for(warm, lambda: api.call("list_tasks", key="bad"))
    assert seen == {
        "create": ["dynamodb.PutItem", "s3.PutObject"],
        "create+token": ["dynamodb.TransactWriteItems", "s3.PutObject"],
        "create replay": ["dynamodb.TransactWriteItems", "dynamodb.GetItem", "s3.PutObject"],
        "get": ["dynamodb.GetItem", "s3.PutObject"],
        "list": ["dynamodb.Query", "s3.PutObject"],
        "claim next": ["dynamodb.Query", "dynamodb.UpdateItem", "s3.PutObject"],
        "claim by id": ["dynamodb.UpdateItem", "s3.PutObject"],
        "release": ["dynamodb.UpdateItem", "s3.PutObject"],
        "submit": ["dynamodb.UpdateItem", "s3.PutObject"],
        "rejected": ["s3.PutObject"],
    }


def test_claiming_an_expired_lease_from_the_queue_costs_two_more_queries(api: Api, aws: Aws, warm: list[str]) -> None:
    """The documented exception to the 3-call budget: no pending task, so the shard read is
    empty, the queue's head too, and the expired-lease partition is queried."""
    task = api.create()
    api.claim("ann-1", task["id"])
    aws.expire_lease(task["id"])
    assert _calls_for(warm, lambda: api.claim("ann-2")) == [
        "dynamodb.Query",
        "dynamodb.Query",
        "dynamodb.Query",
        "dynamodb.UpdateItem",
        "s3.PutObject",
    ]


def test_only_operations_the_iam_policy_grants_are_used(api: Api) -> None:
    calls = record_calls(handler.runtime())
    task = api.create(client_token="x")
    assert (
        api.call(
            "create_task", task={"prompt": "Which answer is kinder?", "responses": ["A", "B"]}, client_token="x"
        ).status
        == 200
    )
    api.call("list_tasks", status="pending", limit=1)
    api.claim("ann")
    api.call("release_task", task_id=task["id"], annotator_id="ann")
    api.claim("ann", task["id"])
    api.call("submit_feedback", task_id=task["id"], annotator_id="ann", feedback={"preferred": 1})
    api.call("get_task", task_id=task["id"])
    api.claim("ann")
    assert set(calls) <= ALLOWED and "secretsmanager.GetSecretValue" in calls


class _Body(BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.read()


def _fail_with(client: Any, status: int, body: bytes, headers: dict[str, str] | None = None) -> list[str]:
    """Answer every request of this client with an error response."""
    sends: list[str] = []

    def respond(request: Any, **_: Any) -> AWSResponse:
        sends.append(request.url)
        return AWSResponse(request.url, status, headers or {}, _Body(body))

    client.meta.events.register_first("before-send", respond)
    return sends


def _refuse_connections(client: Any) -> list[str]:
    """Every request of this client fails to connect, as when the endpoint is down."""
    sends: list[str] = []

    def refuse(request: Any, **_: Any) -> None:
        sends.append(request.url)
        raise EndpointConnectionError(endpoint_url=request.url)

    client.meta.events.register_first("before-send", refuse)
    return sends


def test_dynamodb_throttling_after_retries_is_503(api: Api, warm: list[str]) -> None:
    body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow down"})
    sends = _fail_with(handler.runtime().dynamodb, 400, body.encode())
    response = api.call("list_tasks")
    assert (response.status, response.error["code"]) == (503, "dependency_unavailable")
    assert "retry" in response.error["message"] and "Throttling" not in response.error["message"]
    assert len(sends) == 3  # standard retry mode: three attempts, then give up


def test_dynamodb_unreachable_is_503_and_nothing_is_written(api: Api, aws: Aws, warm: list[str]) -> None:
    sends = _refuse_connections(handler.runtime().dynamodb)
    response = api.call("create_task", task={"prompt": "p", "responses": ["a", "b"]})
    assert (response.status, response.error["code"]) == (503, "dependency_unavailable")
    assert len(sends) == 3
    assert aws.dynamodb.scan(TableName="tap-tasks-test")["Count"] == 0  # test-side check only
    assert len(aws.audit_records()) == 2  # the warm-up and this 503 are both audited


def test_secrets_manager_down_on_a_cold_container_is_503(api: Api) -> None:
    sends = _refuse_connections(handler.runtime().secretsmanager)
    response = api.call("list_tasks")
    assert (response.status, response.error["code"]) == (503, "dependency_unavailable")
    assert len(sends) == 3


def test_s3_throttling_falls_back_to_the_log(api: Api, warm: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    sends = _fail_with(
        handler.runtime().s3,
        503,
        b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
    )
    capsys.readouterr()
    response = api.call("list_tasks")
    assert response.status == 200
    assert len(sends) == 3
    fallback = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"audit_fallback":true' in line]
    assert len(fallback) == 1 and "SlowDown" in fallback[0]["error"]
    assert fallback[0]["record"]["request_id"] == response.request_id


def test_a_new_container_gets_the_s3_model_botocore_ships_after_moto_served_s3(aws: Aws) -> None:
    """moto serves S3 from a model with its own additions merged in; the handler's clients,
    whose data files the test session parses once (tests/conftest.py), must not see them."""
    aws.s3.put_object(Bucket=BUCKET, Key="probe", Body=b"x")
    shipped = JSONFileLoader().load_file(
        str(Path(botocore.__file__).parent / "data" / "s3" / "2006-03-01" / "service-2")
    )
    served = moto_loaders.create_loader().load_service_model("s3", "service-2")
    assert set(served["operations"]) > set(shipped["operations"]), "moto adds S3 operations of its own"
    runtime = handler.Runtime(handler.s.Settings.from_env())
    assert set(runtime.s3.meta.service_model.operation_names) == set(shipped["operations"])
