"""Turn the synthesized ``aws_dynamodb_table`` resource into ``create_table`` kwargs.

The handler's tests build their moto table either from the contract
(``REFERENCE_TABLE``) or from the Terraform JSON the stack deploys, so a renamed
index or key fails these tests instead of production.
"""

from __future__ import annotations

from typing import Any

from function import contract

#: Capacity the stack gives the table and each index before autoscaling takes over.
_UNITS = {"read_capacity": 5, "write_capacity": 5}


def _contract_table() -> dict[str, Any]:
    """The ``aws_dynamodb_table`` resource as function/contract.py defines it, for tests
    that run without a synthesized stack. test_handler_contract.py checks that every
    synthesized stack declares exactly this key, these attributes and these indexes."""
    indexes = []
    for index in contract.INDEXES:
        gsi: dict[str, Any] = {
            "name": index.name,
            "hash_key": index.hash_key,
            "range_key": index.range_key,
            "projection_type": index.projection_type,
            **_UNITS,
        }
        if index.non_key_attributes:
            gsi["non_key_attributes"] = list(index.non_key_attributes)
        indexes.append(gsi)
    return {
        "billing_mode": "PROVISIONED",
        "hash_key": contract.HASH_KEY,
        "attribute": [{"name": name, "type": contract.KEY_ATTRIBUTE_TYPE} for name in contract.key_attributes()],
        **_UNITS,
        "global_secondary_index": indexes,
    }


REFERENCE_TABLE: dict[str, Any] = _contract_table()


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
