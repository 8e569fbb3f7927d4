"""The synthesized stacks and the handler agree on function/contract.py.

Each test reads one side from the synthesized Terraform JSON of every environment and
the other from what the real handler does (the module Lambda would import, the
variables it reads, the requests it sends to moto), so a rename on either side fails
here even though each side's own tests still pass.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from function import audit, contract
from stacks.package import LambdaPackage
from tests.function.support import BUCKET, SECRET, TABLE, Api, Aws, handler, record_requests

ENVIRONMENTS = ("prod_stack", "dev_stack", "local_stack", "switched_off_stack")
#: What the stack points the function's variables at, and the moto resource standing for each.
TEST_RESOURCES = {
    "${aws_dynamodb_table.data.name}": TABLE,
    "${aws_s3_bucket.lambda_logs.bucket}": BUCKET,
    "${var.api_key_secret_name}": SECRET,
}
#: The variables the test environment sets (tests/function/conftest.py), cleared first.
ENVIRONMENT_NAMES_NOW = contract.ENVIRONMENT
#: One ``{"Effect" = "Allow", "Action" = …, "Resource" = …}`` of the policy's jsonencode() expression.
_STATEMENT = re.compile(
    r'\{"Effect" = "Allow", "Action" = (\[[^\]]*\]|"[^"]*"), "Resource" = (\[[^\]]*\]|"[^"]*"|[\w.]+)\}'
)
#: The IAM action a TransactWriteItems element is authorised as.
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@pytest.fixture(params=ENVIRONMENTS)
def stack(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each synthesized environment in turn (the last one with the feature switches off)."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def _function(stack: dict[str, Any]) -> dict[str, Any]:
    return stack["resource"]["aws_lambda_function"]["main"]  # type: ignore[no-any-return]


def _grants(stack: dict[str, Any]) -> dict[str, set[str]]:
    """IAM action → the resources the function's policy allows it on."""
    policy = stack["resource"]["aws_iam_policy"]["lambda_policy"]["policy"]
    grants: dict[str, set[str]] = {}
    for actions, resources in _STATEMENT.findall(policy):
        names = re.findall(r'"([^"]+)"', resources) or [resources]
        for action in re.findall(r'"([^"]+)"', actions):
            grants.setdefault(action, set()).update(names)
    return grants


def test_handler_setting_names_the_packaged_entry_point(
    stack: dict[str, Any], lambda_package: LambdaPackage, tmp_path: Path
) -> None:
    """Lambda's view: the zip unpacked alone, the handler setting imported from its root,
    the libraries from the zip (not from this checkout's environment)."""
    module_name, function_name = _function(stack)["handler"].rsplit(".", 1)
    with zipfile.ZipFile(lambda_package.path) as package:
        package.extractall(tmp_path)
    probe = (
        f"import {module_name}, function.handler, aws_lambda_powertools\n"
        f"assert {module_name}.{function_name} is function.handler.lambda_handler\n"
        "print(function.handler.__file__, aws_lambda_powertools.__file__, sep='\\n')"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [Path(path).is_relative_to(tmp_path) for path in found] == [True, True], found


def test_the_handler_runs_on_exactly_the_variables_the_stack_sets(
    stack: dict[str, Any], api: Api, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Named as the stack names them, the variables are all the handler needs; without any
    one of them it answers 500 and logs which one is missing."""
    variables = _function(stack)["environment"]["variables"]
    assert set(variables.values()) == set(TEST_RESOURCES)
    for name in ENVIRONMENT_NAMES_NOW:
        monkeypatch.delenv(name, raising=False)
    for name, source in variables.items():
        monkeypatch.setenv(name, TEST_RESOURCES[source])
    handler.reset_caches()
    assert api.call("list_tasks").status == 200
    for dropped in variables:
        monkeypatch.delenv(dropped)
        handler.reset_caches()
        response = api.call("list_tasks")
        assert (response.status, response.error["code"]) == (500, "internal_error")
        monkeypatch.setenv(dropped, TEST_RESOURCES[variables[dropped]])


def test_what_the_handler_writes_fits_the_synthesized_table(
    prod_stack: dict[str, Any], api: Api, aws: Aws, queue_order: None
) -> None:
    """Every item the handler wrote (read back from moto) carries the table's key, the
    index keys of the queue it is in, and, for token items, the TTL attribute, each of the
    type the synthesized table declares."""
    table = prod_stack["resource"]["aws_dynamodb_table"]["data"]
    declared = {attribute["name"]: attribute["type"] for attribute in table["attribute"]}
    _every_action(api, aws)
    items = aws.dynamodb.scan(TableName=TABLE)["Items"]
    assert all(set(item[table["hash_key"]]) == {declared[table["hash_key"]]} for item in items)
    for gsi in table["global_secondary_index"]:
        in_index = [item for item in items if gsi["hash_key"] in item and gsi["range_key"] in item]
        assert in_index, f"the handler wrote no item {gsi['name']} indexes"
        for item in in_index:
            assert (set(item[gsi["hash_key"]]), set(item[gsi["range_key"]])) == (
                {declared[gsi["hash_key"]]},
                {declared[gsi["range_key"]]},
            )
    ttl = table["ttl"]["attribute_name"]
    expiring = [item for item in items if ttl in item]
    assert expiring and all(set(item[ttl]) == {"N"} for item in expiring)
    assert table["ttl"]["enabled"] is True


def test_audit_records_land_where_the_policy_and_the_lifecycle_expect(stack: dict[str, Any]) -> None:
    key = audit.object_key(datetime(2026, 1, 2, 3, tzinfo=UTC), "req-1")
    assert key.startswith(contract.AUDIT_PREFIX)
    assert _grants(stack)["s3:PutObject"] == {f"${{aws_s3_bucket.lambda_logs.arn}}/{contract.AUDIT_PREFIX}*"}
    (to_cheaper_storage,) = [
        rule
        for rule in stack["resource"]["aws_s3_bucket_lifecycle_configuration"]["lambda_logs"]["rule"]
        if rule.get("transition")
    ]
    assert to_cheaper_storage["filter"] == [{"prefix": contract.AUDIT_PREFIX}]


@pytest.fixture
def table_resource(prod_stack: dict[str, Any]) -> dict[str, Any]:
    """The moto table of the tests below is built from the synthesized production table."""
    return prod_stack["resource"]["aws_dynamodb_table"]["data"]  # type: ignore[no-any-return]


def _every_action(api: Api, aws: Aws) -> None:
    """One request of each kind, including a claim of an expired lease (from one shard read
    one candidate at a time, so the order is the queue's); one task is left pending."""
    assert api.call("list_tasks", status="pending").status == 200
    first = api.create(priority=contract.MAX_PRIORITY, client_token="contract-1")
    second = api.create(priority=contract.MIN_PRIORITY)
    assert api.call("get_task", task_id=first["id"]).status == 200
    assert api.claim("ann-1").task["id"] == first["id"]
    assert (
        api.call("submit_feedback", task_id=first["id"], annotator_id="ann-1", feedback={"preferred": 0}).status == 200
    )
    assert api.claim("ann-2", second["id"]).status == 200
    assert api.call("release_task", task_id=second["id"], annotator_id="ann-2").status == 200
    assert api.claim("ann-3").task["id"] == second["id"]
    aws.expire_lease(second["id"])
    assert api.claim("ann-4").task["id"] == second["id"]
    api.create()


def test_every_request_of_the_handler_is_allowed_by_the_stack(
    prod_stack: dict[str, Any], api: Api, aws: Aws, queue_order: None
) -> None:
    assert api.call("list_tasks").status == 200  # a warm container: clients built, secret read
    requests = record_requests(handler.runtime())
    _every_action(api, aws)
    grants = _grants(prod_stack)
    needed: set[str] = set()
    for service, operation, params in requests:
        if operation == "TransactWriteItems":
            needed |= {f"dynamodb:{_TRANSACT_ACTIONS[kind]}" for item in params["TransactItems"] for kind in item}
        else:
            needed.add(f"{service}:{operation}")
        if operation == "PutObject":
            assert params["Key"].startswith(contract.AUDIT_PREFIX), params["Key"]
    assert {"dynamodb:Query", "dynamodb:UpdateItem", "s3:PutObject"} <= needed
    assert needed <= set(grants), f"not granted: {sorted(needed - set(grants))}"
    granted_dynamodb = {action for action in grants if action.startswith("dynamodb:")}
    assert granted_dynamodb == {action for action in needed if action.startswith("dynamodb:")}  # least privilege


def test_queries_use_only_what_the_synthesized_indexes_hold(
    table_resource: dict[str, Any], api: Api, aws: Aws, queue_order: None
) -> None:
    """Every Query names a synthesized index, keys on its keys and reads only attributes it projects."""
    indexes = {gsi["name"]: gsi for gsi in table_resource["global_secondary_index"]}
    requests = record_requests(handler.runtime())
    _every_action(api, aws)
    queries = [params for _, operation, params in requests if operation == "Query"]
    assert {q["IndexName"] for q in queries} == set(indexes)
    for query in queries:
        gsi = indexes[query["IndexName"]]
        names = query["ExpressionAttributeNames"]
        keys = {gsi["hash_key"], gsi["range_key"]}
        key_names = {names[token] for token in re.findall(r"#\w+", query["KeyConditionExpression"])}
        assert key_names <= keys, query
        if gsi["projection_type"] != "ALL":
            projected = keys | {table_resource["hash_key"]} | set(gsi.get("non_key_attributes", []))
            read = {names[token] for token in re.findall(r"#\w+", query["ProjectionExpression"])}
            assert read <= projected, f"{query['IndexName']} does not project {sorted(read - projected)}"


def test_the_priority_range_orders_the_queue() -> None:
    priorities = range(contract.MIN_PRIORITY, contract.MAX_PRIORITY + 1)
    ranks = [contract.priority_rank(p) for p in priorities]
    assert sorted(ranks) == ranks[::-1], "a higher priority must sort first"
    assert {len(rank) for rank in ranks} == {1}, "ranks must be one character so string order is number order"
    for outside in (contract.MIN_PRIORITY - 1, contract.MAX_PRIORITY + 1):
        with pytest.raises(ValueError, match="outside"):
            contract.priority_rank(outside)


def test_the_api_accepts_exactly_the_contract_priorities(api: Api) -> None:
    for priority in (contract.MIN_PRIORITY, contract.MAX_PRIORITY):
        assert api.create(priority=priority)["priority"] == priority
    for priority in (contract.MIN_PRIORITY - 1, contract.MAX_PRIORITY + 1):
        refused = api.call("create_task", task={"prompt": "p", "responses": ["a", "b"], "priority": priority})
        assert (refused.status, refused.error["code"]) == (400, "invalid_field")
        assert refused.error["message"].startswith("task.priority ")
