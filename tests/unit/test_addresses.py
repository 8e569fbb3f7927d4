"""Every resource of the original HCL is synthesized once, at its original address."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stacks.naming import AddressRegistry

#: The 25 resource addresses of the original HCL deployment.
ORIGINAL_ADDRESSES = (
    "aws_vpc.main",
    "aws_s3_bucket.lambda_logs",
    "aws_s3_bucket_server_side_encryption_configuration.lambda_logs",
    "aws_dynamodb_table.data",
    "aws_appautoscaling_target.dynamodb_read",
    "aws_appautoscaling_policy.dynamodb_read_policy",
    "aws_appautoscaling_target.dynamodb_write",
    "aws_appautoscaling_policy.dynamodb_write_policy",
    "aws_iam_role.lambda_exec",
    "aws_iam_policy.lambda_policy",
    "aws_iam_role_policy_attachment.lambda_policy_attach",
    "aws_lambda_function.main",
    "aws_api_gateway_rest_api.main",
    "aws_api_gateway_resource.lambda_resource",
    "aws_api_gateway_method.lambda_method",
    "aws_api_gateway_integration.lambda_integration",
    "aws_api_gateway_deployment.main",
    "aws_api_gateway_stage.prod",
    "aws_api_gateway_method_settings.prod_settings",
    "aws_api_gateway_gateway_response.cors",
    "aws_security_group.api_gw_sg",
    "aws_iam_policy.api_gw_ip_restrict",
    "aws_secretsmanager_secret.api_keys",
    "aws_cloudwatch_metric_alarm.apigw_4xx",
    "aws_cloudwatch_metric_alarm.apigw_5xx",
)


def addresses(stack: dict[str, Any]) -> list[str]:
    return [f"{kind}.{name}" for kind, block in stack.get("resource", {}).items() for name in block]


def test_there_are_25_original_addresses() -> None:
    assert len(set(ORIGINAL_ADDRESSES)) == 25


@pytest.mark.parametrize("address", ORIGINAL_ADDRESSES)
def test_original_address_is_synthesized(prod_stack: dict[str, Any], address: str) -> None:
    assert address in addresses(prod_stack), f"{address} is missing from the synthesized stack"


@pytest.mark.parametrize("env_stack", ["prod_stack", "dev_stack", "local_stack"])
def test_every_environment_keeps_the_original_addresses(request: pytest.FixtureRequest, env_stack: str) -> None:
    found = addresses(request.getfixturevalue(env_stack))
    assert set(ORIGINAL_ADDRESSES) <= set(found)
    assert len(found) == len(set(found))


def test_no_generated_logical_ids(prod_stack: dict[str, Any]) -> None:
    """CDKTF's default ids are CamelCase paths with a hash suffix; ours are HCL-style names."""
    for address in addresses(prod_stack):
        assert re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*", address), address


def test_registry_refuses_a_second_element_at_one_address() -> None:
    registry = AddressRegistry()
    assert registry.allocate("aws_vpc.main", "aws_vpc", "prod/network/aws_vpc.main") == "main"
    # Asked again for the same element: same answer.
    assert registry.allocate("aws_vpc.main", "aws_vpc", "prod/network/aws_vpc.main") == "main"
    with pytest.raises(ValueError, match="share the address aws_vpc.main"):
        registry.allocate("aws_vpc.main", "aws_vpc", "prod/other/aws_vpc.main")


def test_registry_refuses_an_id_that_names_another_type() -> None:
    with pytest.raises(ValueError, match="must be the Terraform address aws_subnet.<name>"):
        AddressRegistry().allocate("aws_vpc.main", "aws_subnet", "prod/network/aws_vpc.main")


def test_variables_and_outputs_take_their_plain_names() -> None:
    registry = AddressRegistry()
    assert registry.allocate("var.tags", "var", "prod/var.tags") == "tags"
    assert registry.allocate("output.tags", "output", "prod/output.tags") == "tags"
