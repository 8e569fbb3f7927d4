"""The synthesized stacks and the handler agree on function/contract.py.

Each test reads one side from the synthesized Terraform JSON of every environment and
the other from what the real handler does (the module Lambda would import, the
variables it reads, the requests it sends to moto), so a rename on either side fails
here even though each side's own tests still pass.
"""

from __future__ import annotations

import importlib
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest

import audit
import contract
import settings
from handler_support import Api, Aws, lambda_function, record_requests
from stacks.package import LambdaPackage

ENVIRONMENTS = ("prod_stack", "dev_stack", "local_stack", "switched_off_stack")
#: Where the stack points each variable: the handler must find these resources under these names.
ENVIRONMENT_SOURCES = {
    contract.TABLE_ENV: "${aws_dynamodb_table.data.name}",
    contract.LOG_BUCKET_ENV: "${aws_s3_bucket.lambda_logs.bucket}",
    contract.API_KEY_SECRET_ENV: "${var.api_key_secret_name}",
}
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


def test_handler_setting_names_the_packaged_entry_point(stack: dict[str, Any], lambda_package: LambdaPackage) -> None:
    handler = _function(stack)["handler"]
    assert handler == contract.HANDLER
    module_name, function_name = handler.rsplit(".", 1)
    with zipfile.ZipFile(lambda_package.path) as package:
        assert f"{module_name}.py" in package.namelist(), f"{module_name}.py is not at the package root"
    assert callable(getattr(importlib.import_module(module_name), function_name, None))


def test_the_handler_reads_every_variable_the_stack_sets(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = _function(stack)["environment"]["variables"]
    assert variables == ENVIRONMENT_SOURCES
    for name in contract.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name in variables:
        monkeypatch.setenv(name, f"from-{name}")
    read = settings.Settings.from_env()
    assert read.missing() == []
    assert (read.table_name, read.log_bucket, read.api_key_secret) == (
        f"from-{contract.TABLE_ENV}",
        f"from-{contract.LOG_BUCKET_ENV}",
        f"from-{contract.API_KEY_SECRET_ENV}",
    )


def test_the_table_has_the_contract_key_and_indexes(stack: dict[str, Any]) -> None:
    table = stack["resource"]["aws_dynamodb_table"]["data"]
    assert table["hash_key"] == contract.HASH_KEY
    assert table["attribute"] == [{"name": n, "type": contract.KEY_ATTRIBUTE_TYPE} for n in contract.key_attributes()]
    synthesized = {
        gsi["name"]: (
            gsi["hash_key"],
            gsi["range_key"],
            gsi["projection_type"],
            tuple(gsi.get("non_key_attributes", ())),
        )
        for gsi in table["global_secondary_index"]
    }
    assert synthesized == {
        i.name: (i.hash_key, i.range_key, i.projection_type, i.non_key_attributes) for i in contract.INDEXES
    }
    # DynamoDB deletes idempotency-token items by the attribute the handler writes their expiry to.
    assert table["ttl"] == {"attribute_name": contract.TTL_ATTRIBUTE, "enabled": True}


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
    """One request of each kind, including a claim of an expired lease."""
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


def test_every_request_of_the_handler_is_allowed_by_the_stack(prod_stack: dict[str, Any], api: Api, aws: Aws) -> None:
    assert api.call("list_tasks").status == 200  # a warm container: clients built, secret read
    requests = record_requests(lambda_function.runtime())
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


def test_queries_use_only_what_the_synthesized_indexes_hold(table_resource: dict[str, Any], api: Api, aws: Aws) -> None:
    """Every Query names a synthesized index, keys on its keys and reads only attributes it projects."""
    indexes = {gsi["name"]: gsi for gsi in table_resource["global_secondary_index"]}
    requests = record_requests(lambda_function.runtime())
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
