"""The Logs Insights queries of docs/runbooks.md name only fields that exist: the keys of the
lines the real handler writes (run here against moto for successes, refusals, a 500 and an
audit fallback), flattened as Logs Insights flattens JSON, plus Logs Insights' own fields.
(Queries over the access log: tests/unit/test_runbooks.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from testkit.runbooks import HANDLER_QUERY, INSIGHTS_FIELDS, query_fields, sections
from tests.function.support import TABLE, Api, Aws, handler
from tests.function.test_handler_dependencies import _fail_with


def flattened(value: Any, prefix: str = "") -> Iterator[str]:
    """Leaf paths as Logs Insights names them: ``a.b`` for objects, ``a.0`` for list items."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flattened(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flattened(item, f"{prefix}.{index}")
    else:
        yield prefix


@pytest.fixture
def logged_fields(api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]) -> set[str]:
    """Every field of the lines the handler writes for a spread of requests."""
    task = api.create(client_token="runbook-1")
    assert api.claim("annotator-1").status == 200
    assert api.call("get_task", task_id="not-a-uuid").status == 400
    assert api.call("list_tasks", key=None).status == 401
    assert api.call("list_tasks", key="tap-wrong-key-000000").status == 403
    assert api.send(api.event({"action": "list_tasks"}, method="GET")).status == 405
    assert api.claim("annotator-2", task["id"]).status == 409
    _fail_with(handler.runtime().s3, 503, b"<Error><Code>SlowDown</Code><Message>slow</Message></Error>")
    assert api.call("list_tasks").status == 200  # audited through the log: audit_fallback
    aws.dynamodb.delete_table(TableName=TABLE)
    assert api.call("list_tasks").status == 500  # the table is gone: internal_error with exception
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert {line.get("audit_fallback") for line in lines} >= {True}
    assert any("exception" in line for line in lines)
    return {path for line in lines for path in flattened(line)}


def runbook_queries(info: str) -> list[tuple[str, str]]:
    return [(anchor, query) for anchor, s in sections().items() for query in s.queries.get(info, [])]


def test_handler_queries_name_only_logged_fields(logged_fields: set[str]) -> None:
    known = logged_fields | INSIGHTS_FIELDS
    assert {"message", "status", "error_code", "latency_ms", "cold_start", "exception", "audit_fallback"} <= known
    queries = runbook_queries(HANDLER_QUERY)
    assert len(queries) >= 8
    unknown = {(anchor, field) for anchor, query in queries for field in query_fields(query) - known}
    assert not unknown, f"runbook queries name fields the handler never logs: {sorted(unknown)}"


def test_a_misspelled_field_is_caught(logged_fields: set[str]) -> None:
    """The check above fails for the right reason: a field the handler does not write."""
    query = 'filter message = "request" | stats pct(latency, 95) as p95 by action'
    assert query_fields(query) - (logged_fields | INSIGHTS_FIELDS) == {"latency"}
