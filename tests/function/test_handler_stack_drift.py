"""The handler against a table built from the synthesized production stack.

``table_resource`` is overridden with the stack's ``aws_dynamodb_table.data``,
so the moto table used here has exactly the keys, attributes and indexes that
Terraform would create. Renaming an index or key in either the stack or the
handler fails this flow; test_handler_contract.py compares the table with the
contract field by field.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.function.support import TABLE, Api, Aws, contract


@pytest.fixture
def table_resource(prod_stack: dict[str, Any]) -> dict[str, Any]:
    return prod_stack["resource"]["aws_dynamodb_table"]["data"]


def test_full_flow_on_the_stack_table(api: Api, aws: Aws, queue_order: None) -> None:
    described = aws.dynamodb.describe_table(TableName=TABLE)["Table"]
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {i.name for i in contract.INDEXES}

    low = api.create(prompt="low", priority=2, client_token="drift-1")
    high = api.create(prompt="high", kind="rating", responses=["a", "b", "c"], priority=8)
    assert [t["id"] for t in api.call("list_tasks").body["tasks"]] == [high["id"], low["id"]]

    claimed = api.claim("ann-1")
    assert claimed.status == 200 and claimed.task["id"] == high["id"]
    submitted = api.call(
        "submit_feedback", task_id=high["id"], annotator_id="ann-1", feedback={"ratings": [7, 1, 4], "rationale": "ok"}
    )
    assert submitted.status == 200 and submitted.task["status"] == "completed"

    second = api.claim("ann-2")
    assert second.task["id"] == low["id"]
    assert api.call("release_task", task_id=low["id"], annotator_id="ann-2").task["status"] == "pending"

    listed = {
        s: [t["id"] for t in api.call("list_tasks", status=s).body["tasks"]]
        for s in ("pending", "assigned", "completed")
    }
    assert listed == {"pending": [low["id"]], "assigned": [], "completed": [high["id"]]}
    assert api.call("get_task", task_id=high["id"]).task["feedback"] == {"ratings": [7, 1, 4], "rationale": "ok"}
