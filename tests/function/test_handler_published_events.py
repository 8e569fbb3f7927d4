"""Published API Gateway REST proxy sample events (see events/SOURCES.md): the
handler accepts each once method, body and key are set, and audits it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handler_support import API_KEY, Aws, LambdaContext, lambda_function

EVENTS = sorted((Path(__file__).parent / "events").glob("*.json"))


def _ready(path: Path, body: dict[str, Any]) -> dict[str, Any]:
    event = json.loads(path.read_text())
    event["httpMethod"] = "POST"
    event["body"] = json.dumps(body)
    event["headers"]["X-Api-Key"] = API_KEY
    event["multiValueHeaders"]["X-Api-Key"] = [API_KEY]
    return event


def test_both_sources_are_present() -> None:
    assert [p.name for p in EVENTS] == [
        "aws-lambda-go_apigw-request.json",
        "powertools-lambda-python_apiGatewayProxyEvent.json",
    ]


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_published_event_is_served_and_audited(aws: Aws, path: Path) -> None:
    published = json.loads(path.read_text())
    create = {"action": "create_task", "task": {"prompt": "p", "responses": ["a", "b"]}}
    result = lambda_function.lambda_handler(_ready(path, create), LambdaContext())
    assert result["statusCode"] == 201, result["body"]
    task = json.loads(result["body"])["task"]
    got = lambda_function.lambda_handler(_ready(path, {"action": "get_task", "task_id": task["id"]}), LambdaContext())
    assert got["statusCode"] == 200 and json.loads(got["body"])["task"] == task

    request_id = result["headers"]["X-Request-Id"]
    published_id = published["requestContext"]["requestId"]
    # "id=" is not safe in an S3 key, so the Lambda request id names the audit object instead.
    assert request_id == (published_id if published_id != "id=" else LambdaContext.aws_request_id)
    # Both calls carry the published (fixed) request id: one audit object, the later call's.
    [(key, record)] = aws.audit_records()
    assert key.endswith(f"/{request_id}.json") and record["status"] == 200
    identity = published["requestContext"]["identity"]
    assert record["caller"]["source_ip"] == identity["sourceIp"]
    assert record["caller"]["identity"].get("apiKey") in (None, "[REDACTED]")
    assert record["request"]["headers"]["x-api-key"] == "[REDACTED]"


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_published_event_as_published_is_refused_cleanly(aws: Aws, path: Path) -> None:
    """Unmodified: the powertools event is a GET (405); the aws-lambda-go one is
    a POST without a key (401)."""
    event = json.loads(path.read_text())
    result = lambda_function.lambda_handler(event, LambdaContext())
    expected = 405 if event["httpMethod"] != "POST" else 401
    assert result["statusCode"] == expected
    assert len(aws.audit_records()) == 1
