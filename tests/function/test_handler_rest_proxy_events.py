"""API Gateway REST proxy events written by this project to the documented format
(see events/README.md): the handler accepts each once method, body and key are set,
audits it, and refuses each as written with a clean 4xx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.function.support import Aws, LambdaContext, as_api_request, handler

EVENTS_DIR = Path(__file__).parent / "events"
EVENTS = sorted(EVENTS_DIR.glob("*.json"))
CONSOLE = "rest-proxy-console-style.json"
CLOUDFRONT = "rest-proxy-cloudfront-style.json"
# The console-style requestId is not safe in an S3 key: the Lambda request id replaces it.
REQUEST_ID = {CONSOLE: LambdaContext.aws_request_id, CLOUDFRONT: "0f0f0f0f-0000-4000-8000-00000000c10d"}
# As written: the console-style event is a GET, the CloudFront-style one a POST without a key.
STATUS_AS_WRITTEN = {CONSOLE: 405, CLOUDFRONT: 401}


def _ready(path: Path, body: dict[str, Any]) -> dict[str, Any]:
    return as_api_request(json.loads(path.read_text()), body)


def test_both_events_are_present() -> None:
    assert [p.name for p in EVENTS] == [CLOUDFRONT, CONSOLE]


def test_events_hold_what_the_readme_says() -> None:
    console = json.loads((EVENTS_DIR / CONSOLE).read_text())
    raw_cloudfront = (EVENTS_DIR / CLOUDFRONT).read_text()
    cloudfront = json.loads(raw_cloudfront)
    assert raw_cloudfront.splitlines()[1].startswith("\t")
    assert "\r\n" in cloudfront["body"]
    assert console["requestContext"]["requestId"] != REQUEST_ID[CONSOLE]
    assert console["requestContext"]["identity"]["sourceIp"].endswith("/32")
    assert cloudfront["requestContext"]["identity"]["apiKey"]
    for event in (console, cloudfront):
        assert any(len(values) == 2 for values in event["multiValueHeaders"].values())
        assert event["queryStringParameters"] and event["pathParameters"] and event["stageVariables"]


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_event_is_served_and_audited(aws: Aws, path: Path) -> None:
    written = json.loads(path.read_text())
    create = {"action": "create_task", "task": {"prompt": "p", "responses": ["a", "b"]}}
    result = handler.lambda_handler(_ready(path, create), LambdaContext())
    assert result["statusCode"] == 201, result["body"]
    task = json.loads(result["body"])["task"]
    got = handler.lambda_handler(_ready(path, {"action": "get_task", "task_id": task["id"]}), LambdaContext())
    assert got["statusCode"] == 200 and json.loads(got["body"])["task"] == task

    request_id = result["headers"]["X-Request-Id"]
    assert request_id == REQUEST_ID[path.name]
    # Both calls carry the event's fixed request id: one audit object, the later call's.
    [(key, record)] = aws.audit_records()
    assert key.endswith(f"/{request_id}.json") and record["status"] == 200
    identity = written["requestContext"]["identity"]
    assert record["caller"]["source_ip"] == identity["sourceIp"]
    assert record["caller"]["identity"]["apiKey"] == ("[REDACTED]" if identity["apiKey"] else None)
    if identity["apiKey"]:
        assert identity["apiKey"] not in json.dumps(record)
    assert record["request"]["headers"]["x-api-key"] == "[REDACTED]"


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_event_as_written_is_refused_cleanly(aws: Aws, path: Path) -> None:
    result = handler.lambda_handler(json.loads(path.read_text()), LambdaContext())
    assert result["statusCode"] == STATUS_AS_WRITTEN[path.name]
    assert len(aws.audit_records()) == 1
