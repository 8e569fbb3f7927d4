"""Turn the synthesized ``aws_dynamodb_table`` resource into ``create_table`` kwargs.

The handler's tests build their moto table from the same Terraform JSON the
stack deploys, so a renamed index or key in the stack fails these tests instead
of production.
"""

from __future__ import annotations

from typing import Any

# The resource as the stack synthesizes it, for tests that run without the
# synthesized stack. test_stack_drift.py checks the real one instead.
REFERENCE_TABLE: dict[str, Any] = {
    "name": "tap-tasks",
    "billing_mode": "PROVISIONED",
    "hash_key": "id",
    "attribute": [
        {"name": "id", "type": "S"},
        {"name": "status", "type": "S"},
        {"name": "created_at", "type": "S"},
        {"name": "queue_key", "type": "S"},
    ],
    "read_capacity": 5,
    "write_capacity": 5,
    "global_secondary_index": [
        {
            "name": "status-created-index",
            "hash_key": "status",
            "range_key": "created_at",
            "projection_type": "ALL",
            "read_capacity": 5,
            "write_capacity": 5,
        },
        {
            "name": "status-queue-index",
            "hash_key": "status",
            "range_key": "queue_key",
            "projection_type": "INCLUDE",
            "non_key_attributes": ["version"],
            "read_capacity": 5,
            "write_capacity": 5,
        },
    ],
}


def create_table_kwargs(resource: dict[str, Any], table_name: str) -> dict[str, Any]:
    """boto3 ``create_table`` arguments equivalent to the Terraform resource.

    ``table_name`` replaces the resource's name, which is a Terraform
    expression in the synthesized JSON.
    """
    provisioned = resource.get("billing_mode", "PROVISIONED") == "PROVISIONED"
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": _key_schema(resource),
        "AttributeDefinitions": [
            {"AttributeName": attribute["name"], "AttributeType": attribute["type"]}
            for attribute in resource["attribute"]
        ],
        "BillingMode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
    }
    if provisioned:
        kwargs["ProvisionedThroughput"] = _throughput(resource)
    indexes = []
    for gsi in resource.get("global_secondary_index", []):
        index: dict[str, Any] = {
            "IndexName": gsi["name"],
            "KeySchema": _key_schema(gsi),
            "Projection": {"ProjectionType": gsi["projection_type"]},
        }
        if gsi.get("non_key_attributes"):
            index["Projection"]["NonKeyAttributes"] = list(gsi["non_key_attributes"])
        if provisioned:
            index["ProvisionedThroughput"] = _throughput(gsi)
        indexes.append(index)
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    return kwargs


def _key_schema(spec: dict[str, Any]) -> list[dict[str, str]]:
    schema = [{"AttributeName": spec["hash_key"], "KeyType": "HASH"}]
    if spec.get("range_key"):
        schema.append({"AttributeName": spec["range_key"], "KeyType": "RANGE"})
    return schema


def _throughput(spec: dict[str, Any]) -> dict[str, int]:
    return {"ReadCapacityUnits": int(spec["read_capacity"]), "WriteCapacityUnits": int(spec["write_capacity"])}
