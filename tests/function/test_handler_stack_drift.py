"""The handler against a table built from the synthesized production stack.

``table_resource`` is overridden with the stack's ``aws_dynamodb_table.data``,
so the moto table used here has exactly the keys, attributes and indexes that
Terraform would create. Renaming an index or key in either the stack or the
handler fails this flow.
"""

from __future__ import annotations

from typing import Any

import pytest

from handler_support import Api, Aws
from table_from_stack import REFERENCE_TABLE, create_table_kwargs


@pytest.fixture
def table_resource(prod_stack: dict[str, Any]) -> dict[str, Any]:
    return prod_stack["resource"]["aws_dynamodb_table"]["data"]


def test_stack_table_has_what_the_handler_needs(table_resource: dict[str, Any]) -> None:
    stack = create_table_kwargs(table_resource, "t")
    reference = create_table_kwargs(REFERENCE_TABLE, "t")
    assert stack["KeySchema"] == reference["KeySchema"]
    assert sorted(map(str, stack["AttributeDefinitions"])) == sorted(map(str, reference["AttributeDefinitions"]))
    by_name = {i["IndexName"]: i for i in stack["GlobalSecondaryIndexes"]}
    for index in reference["GlobalSecondaryIndexes"]:
        assert by_name[index["IndexName"]]["KeySchema"] == index["KeySchema"]
        assert by_name[index["IndexName"]]["Projection"] == index["Projection"]
    # list_tasks returns whole tasks straight from its index; claiming reads only the
    # candidates' id (a key, always projected) and version from the queue index.
    assert by_name["status-created-index"]["Projection"] == {"ProjectionType": "ALL"}
    queue = by_name["status-queue-index"]["Projection"]
    assert queue["ProjectionType"] == "ALL" or "version" in queue.get("NonKeyAttributes", [])


def test_full_flow_on_the_stack_table(api: Api, aws: Aws) -> None:
    described = aws.dynamodb.describe_table(TableName="tap-tasks-test")["Table"]
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {
        "status-created-index",
        "status-queue-index",
    }

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

    listed = {s: [t["id"] for t in api.call("list_tasks", status=s).body["tasks"]] for s in ("pending", "assigned", "completed")}
    assert listed == {"pending": [low["id"]], "assigned": [], "completed": [high["id"]]}
    assert api.call("get_task", task_id=high["id"]).task["feedback"] == {"ratings": [7, 1, 4], "rationale": "ok"}
