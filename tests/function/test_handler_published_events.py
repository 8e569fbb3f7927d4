"""AWS's own published API Gateway REST proxy sample event, from the AWS SAM CLI package
(`sam local generate-event apigateway aws-proxy`): the handler accepts it once method, body
and key are set, and refuses it cleanly as AWS's tool renders it.

The event is read from the wheel `make test` downloads (tests/function/events/published.txt,
hash-checked); it is rendered the way the SAM CLI renders it, with the defaults of its
event-mapping.json, so the only values set here are the method, the body and the key.
"""

from __future__ import annotations

import base64
import functools
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.function.support import Aws, LambdaContext, as_api_request, handler

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENT = ROOT / "tests" / "function" / "events" / "published.txt"
DOWNLOADS = ROOT / "build" / "published-events"
EVENTS = "samcli/lib/generated_sample_events"
TEMPLATE, MAPPING = f"{EVENTS}/events/apigateway/AwsProxy.json", f"{EVENTS}/event-mapping.json"


def _wheel() -> Path:
    pinned = next(line for line in REQUIREMENT.read_text().splitlines() if line.startswith("aws-sam-cli=="))
    version = pinned.split("==")[1].split()[0]
    wheel = DOWNLOADS / f"aws_sam_cli-{version}-py3-none-any.whl"
    if not wheel.is_file():
        pytest.fail(f"{wheel.relative_to(ROOT)} is missing: run `make test` (it downloads the pinned wheel)")
    return wheel


def _rendered() -> dict[str, Any]:
    """AwsProxy.json as `sam local generate-event apigateway aws-proxy` renders it (a fresh copy)."""
    event: dict[str, Any] = json.loads(_rendered_text())
    return event


@functools.cache
def _rendered_text() -> str:
    with zipfile.ZipFile(_wheel()) as wheel:
        text = wheel.read(TEMPLATE).decode("utf-8")
        tags = json.loads(wheel.read(MAPPING))["apigateway"]["aws-proxy"]["tags"]
    for name, tag in tags.items():
        value = str(tag["default"])
        if tag.get("encoding") == "base64":
            value = base64.b64encode(value.encode("utf-8")).decode("ascii")
        placeholder = "{{{" + name.replace("-", "_") + "}}}"
        if tag.get("type") == "dict":
            text = text.replace(f'"{placeholder}"', value)
        else:
            text = text.replace(placeholder, json.dumps(value)[1:-1])
    assert "{{{" not in text, "a placeholder of the template has no default in event-mapping.json"
    return text


def _ready(body: dict[str, Any]) -> dict[str, Any]:
    return as_api_request(_rendered(), body)  # the body stays base64-encoded, as the event says


def test_the_published_event_is_a_rest_proxy_event() -> None:
    event = _rendered()
    assert event["httpMethod"] == "POST" and event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b'{"test":"body"}'
    assert event["requestContext"]["accountId"] == "123456789012"
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["https"]


def test_the_published_event_is_served_and_audited(aws: Aws) -> None:
    create = {"action": "create_task", "task": {"prompt": "p", "responses": ["a", "b"]}}
    created = handler.lambda_handler(_ready(create), LambdaContext())
    assert created["statusCode"] == 201, created["body"]
    task = json.loads(created["body"])["task"]
    got = handler.lambda_handler(_ready({"action": "get_task", "task_id": task["id"]}), LambdaContext())
    assert got["statusCode"] == 200 and json.loads(got["body"])["task"] == task
    request_id = _rendered()["requestContext"]["requestId"]
    assert created["headers"]["X-Request-Id"] == request_id
    [(key, record)] = aws.audit_records()  # both calls carry the event's fixed request id
    assert key.endswith(f"/{request_id}.json") and record["status"] == 200
    assert record["caller"]["source_ip"] == "127.0.0.1"
    assert record["request"]["headers"]["x-api-key"] == "[REDACTED]"


def test_the_published_event_as_rendered_is_refused_cleanly(aws: Aws) -> None:
    """As AWS's tool renders it: a POST without a key, whose body is no task API request."""
    result = handler.lambda_handler(_rendered(), LambdaContext())
    assert result["statusCode"] == 401, result["body"]
    assert json.loads(result["body"])["error"]["code"] == "missing_api_key"
    assert len(aws.audit_records()) == 1
