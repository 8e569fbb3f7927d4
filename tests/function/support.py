"""Helpers shared by the handler tests: constants, event builder, call recorder."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from function import contract, handler
from local.apigw import LambdaContext, ProxyRequest, make_event

TABLE = "tap-tasks-test"
BUCKET = "tap-audit-test"
SECRET = "tap/api-keys-test"
API_KEY = "tap-test-key-6f1b2c3d4e5f"
OTHER_KEY = "tap-test-key-second-0a9b8c"
#: A lease expiry long gone.
PAST = "2000-01-01T00:00:00.000000Z"


@dataclass
class Aws:
    dynamodb: Any
    s3: Any
    secretsmanager: Any

    def audit_records(self) -> list[tuple[str, dict[str, Any]]]:
        """Every audit object as (key, record), oldest key first."""
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=contract.AUDIT_PREFIX):
            keys += [obj["Key"] for obj in page.get("Contents", [])]
        return [(k, json.loads(self.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read())) for k in sorted(keys)]

    def set_keys(self, *keys: str) -> None:
        self.secretsmanager.put_secret_value(SecretId=SECRET, SecretString=json.dumps({"api_keys": list(keys)}))

    def expire_lease(self, task_id: str) -> None:
        """Arrange a lease that ran out, as 30 minutes of waiting would."""
        self.dynamodb.update_item(
            TableName=TABLE,
            Key={"id": {"S": task_id}},
            UpdateExpression="SET lease_expires_at = :past, queue_key = :qk",
            ExpressionAttributeValues={":past": {"S": PAST}, ":qk": {"S": f"{PAST}#{task_id}"}},
        )

    def raw_item(self, item_id: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(TableName=TABLE, Key={"id": {"S": item_id}}, ConsistentRead=True).get("Item")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    request_id: str

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]

    @property
    def task(self) -> dict[str, Any]:
        return self.body["task"]


@dataclass
class Api:
    """Builds API Gateway REST proxy events and calls the real handler."""

    source_ip: str = "203.0.113.7"
    sent: list[dict[str, Any]] = field(default_factory=list)

    def event(
        self,
        body: Any = None,
        *,
        key: str | None = API_KEY,
        method: str = "POST",
        headers: dict[str, str] | None = None,
        raw: str | None = None,
        base64_body: bool = False,
    ) -> dict[str, Any]:
        """A REST proxy event of ``body`` (as JSON) or ``raw`` text, sent with ``key``."""
        text = raw if raw is not None else (None if body is None else json.dumps(body))
        all_headers = {"Content-Type": "application/json", "User-Agent": "pytest"}
        all_headers.update({"X-Api-Key": key} if key is not None else {})
        all_headers.update(headers or {})
        try:
            encoded: bytes | None = (text or "").encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: a JSON event can carry one, HTTP cannot
            encoded = None
        request = ProxyRequest(
            method, "/lambda", list(all_headers.items()), encoded or b"", self.source_ip, base64_body
        )
        event = make_event(request, "prod", str(uuid.uuid4()))
        if encoded is None:
            event["body"] = text
        return event

    def send(self, event: dict[str, Any]) -> Response:
        self.sent.append(event)
        result = handler.lambda_handler(event, LambdaContext())
        assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
        return Response(
            result["statusCode"], result["headers"], json.loads(result["body"]), event["requestContext"]["requestId"]
        )

    def call(self, action: str, *, key: str | None = API_KEY, **fields: Any) -> Response:
        return self.send(self.event({"action": action, **fields}, key=key))

    def create(self, client_token: str | None = None, **task: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"task": {"prompt": "Which answer is kinder?", "responses": ["A", "B"], **task}}
        if client_token is not None:
            body["client_token"] = client_token
        response = self.call("create_task", **body)
        assert response.status == 201, response.body
        return response.task

    def claim(self, annotator: str, task_id: str | None = None) -> Response:
        fields: dict[str, Any] = {"annotator_id": annotator}
        if task_id is not None:
            fields["task_id"] = task_id
        return self.call("claim_task", **fields)


def as_api_request(event: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A REST proxy event from elsewhere made into a task API request: method ``POST``,
    ``body`` (base64-encoded when the event says its body is), our key in both header
    maps; everything else as it was."""
    raw = json.dumps(body)
    event["httpMethod"] = "POST"
    event["body"] = base64.b64encode(raw.encode("utf-8")).decode("ascii") if event["isBase64Encoded"] else raw
    event["headers"]["X-Api-Key"] = API_KEY
    event["multiValueHeaders"]["X-Api-Key"] = [API_KEY]
    return event


def record_calls(runtime: handler.Runtime) -> list[str]:
    """Names ("dynamodb.UpdateItem", ...) of every API call the runtime's
    real clients make from now on, hooked on botocore's before-call event."""
    calls: list[str] = []
    for client in (runtime.dynamodb, runtime.s3, runtime.secretsmanager):
        prefix = client.meta.service_model.service_name

        def hook(model: Any, _prefix: str = prefix, **_: Any) -> None:
            calls.append(f"{_prefix}.{model.name}")

        client.meta.events.register("before-call", hook)
    return calls


def record_requests(runtime: handler.Runtime) -> list[tuple[str, str, dict[str, Any]]]:
    """(service, operation, parameters) of every API call the runtime's real clients
    make from now on, hooked on botocore's before-parameter-build event."""
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for client in (runtime.dynamodb, runtime.s3, runtime.secretsmanager):
        service = client.meta.service_model.service_name

        def hook(params: dict[str, Any], model: Any, _service: str = service, **_: Any) -> None:
            requests.append((_service, model.name, dict(params)))

        client.meta.events.register("before-parameter-build", hook)
    return requests
