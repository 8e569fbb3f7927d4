"""The original resources keep the HCL's arguments (apart from documented deviations).

Uses the CDK library's Testing assertions on the synthesized production stack.
"""

from __future__ import annotations

from typing import Any

import pytest

from stacks.cdk import core
from tests.unit.helpers import ORIGINAL_ADDRESSES

ORIGINAL_TAGS = {"Project": "TapStack", "Environment": "Production", "Owner": "TuringGPT", "ManagedBy": "Terraform"}

#: (resource type, properties the HCL set, unchanged by any deviation)
ORIGINAL_ARGUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("aws_vpc", {"cidr_block": "10.0.0.0/16", "enable_dns_support": True, "enable_dns_hostnames": True, "tags": "${var.tags}"}),
    ("aws_s3_bucket", {"bucket": "${var.lambda_log_bucket_name}", "tags": "${var.tags}"}),
    ("aws_s3_bucket_server_side_encryption_configuration", {"bucket": "${aws_s3_bucket.lambda_logs.id}"}),
    ("aws_dynamodb_table", {"name": "${var.dynamodb_table_name}", "billing_mode": "PROVISIONED", "hash_key": "id",
                            "read_capacity": 5, "write_capacity": 5, "tags": "${var.tags}"}),
    ("aws_appautoscaling_target", {"max_capacity": 100, "min_capacity": 5, "resource_id": "table/${aws_dynamodb_table.data.name}",
                                   "scalable_dimension": "dynamodb:table:ReadCapacityUnits", "service_namespace": "dynamodb"}),
    ("aws_appautoscaling_target", {"max_capacity": 100, "min_capacity": 5, "resource_id": "table/${aws_dynamodb_table.data.name}",
                                   "scalable_dimension": "dynamodb:table:WriteCapacityUnits", "service_namespace": "dynamodb"}),
    ("aws_appautoscaling_policy", {"name": "DynamoDBReadAutoScalingPolicy", "policy_type": "TargetTrackingScaling",
                                   "resource_id": "${aws_appautoscaling_target.dynamodb_read.resource_id}",
                                   "target_tracking_scaling_policy_configuration": {
                                       "predefined_metric_specification": {"predefined_metric_type": "DynamoDBReadCapacityUtilization"},
                                       "target_value": 70}}),
    ("aws_appautoscaling_policy", {"name": "DynamoDBWriteAutoScalingPolicy", "policy_type": "TargetTrackingScaling",
                                   "resource_id": "${aws_appautoscaling_target.dynamodb_write.resource_id}",
                                   "target_tracking_scaling_policy_configuration": {
                                       "predefined_metric_specification": {"predefined_metric_type": "DynamoDBWriteCapacityUtilization"},
                                       "target_value": 70}}),
    ("aws_iam_role", {"name": "tap_stack_lambda_exec_role", "tags": "${var.tags}"}),
    ("aws_iam_policy", {"name": "tap_stack_lambda_policy", "description": "Least privilege policy for Lambda"}),
    ("aws_iam_role_policy_attachment", {"role": "${aws_iam_role.lambda_exec.name}", "policy_arn": "${aws_iam_policy.lambda_policy.arn}"}),
    ("aws_lambda_function", {"function_name": "tap_stack_lambda", "role": "${aws_iam_role.lambda_exec.arn}",
                             "handler": "lambda_function.lambda_handler", "tags": "${var.tags}",
                             "environment": {"variables": {"DYNAMODB_TABLE": "${aws_dynamodb_table.data.name}",
                                                           "LOG_BUCKET": "${aws_s3_bucket.lambda_logs.bucket}",
                                                           "API_KEY_SECRET": "${var.api_key_secret_name}"}}}),
    ("aws_api_gateway_rest_api", {"name": "tap_stack_api", "description": "REST API for Lambda", "tags": "${var.tags}"}),
    ("aws_api_gateway_resource", {"rest_api_id": "${aws_api_gateway_rest_api.main.id}",
                                  "parent_id": "${aws_api_gateway_rest_api.main.root_resource_id}", "path_part": "lambda"}),
    ("aws_api_gateway_method", {"http_method": "POST", "authorization": "AWS_IAM",
                                "resource_id": "${aws_api_gateway_resource.lambda_resource.id}"}),
    ("aws_api_gateway_integration", {"integration_http_method": "POST", "type": "AWS_PROXY",
                                     "http_method": "${aws_api_gateway_method.lambda_method.http_method}"}),
    # (its uri is the live alias's invoke_arn now: a documented deviation, tests/unit/test_rollout_stack.py)
    ("aws_api_gateway_deployment", {"rest_api_id": "${aws_api_gateway_rest_api.main.id}"}),
    ("aws_api_gateway_stage", {"stage_name": "prod", "deployment_id": "${aws_api_gateway_deployment.main.id}",
                               "cache_cluster_enabled": True, "cache_cluster_size": "0.5", "tags": "${var.tags}"}),
    ("aws_api_gateway_method_settings", {"stage_name": "${aws_api_gateway_stage.prod.stage_name}", "method_path": "*/*",
                                         "settings": {"metrics_enabled": True, "logging_level": "INFO",
                                                      "cache_data_encrypted": True, "cache_ttl_in_seconds": 300}}),
    ("aws_api_gateway_gateway_response", {"response_type": "DEFAULT_4XX", "response_parameters": {
        "gatewayresponse.header.Access-Control-Allow-Origin": "'https://google.com'",
        "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'",
        "gatewayresponse.header.Access-Control-Allow-Methods": "'POST,OPTIONS'"}}),
    ("aws_security_group", {"name": "tap_stack_api_gw_sg", "description": "Allow ICMP, TCP 80/443 for API Gateway",
                            "vpc_id": "${aws_vpc.main.id}", "tags": "${var.tags}"}),
    ("aws_iam_policy", {"name": "tap_stack_api_gw_ip_restrict", "description": "Restrict API Gateway access to known IPs"}),
    ("aws_secretsmanager_secret", {"name": "${var.api_key_secret_name}", "tags": "${var.tags}"}),
    ("aws_cloudwatch_metric_alarm", {"alarm_name": "tap_stack_apigw_4xx_errors", "comparison_operator": "GreaterThanThreshold",
                                     "evaluation_periods": 1, "metric_name": "4XXError", "namespace": "AWS/ApiGateway",
                                     "period": 60, "statistic": "Sum", "threshold": 1,
                                     "alarm_description": "Alarm for API Gateway 4XX errors. Runbook: docs/runbooks.md#api-4xx",
                                     "dimensions": {"ApiName": "${aws_api_gateway_rest_api.main.name}"}, "tags": "${var.tags}"}),
    ("aws_cloudwatch_metric_alarm", {"alarm_name": "tap_stack_apigw_5xx_errors", "metric_name": "5XXError",
                                     "alarm_description": "Alarm for API Gateway 5XX errors. Runbook: docs/runbooks.md#api-5xx",
                                     "dimensions": {"ApiName": "${aws_api_gateway_rest_api.main.name}"}}),
]  # fmt: skip


def test_every_original_resource_has_an_argument_check() -> None:
    covered = {kind for kind, _ in ORIGINAL_ARGUMENTS}
    assert covered == {address.split(".")[0] for address in ORIGINAL_ADDRESSES}
    assert len(ORIGINAL_ARGUMENTS) == len(ORIGINAL_ADDRESSES)


@pytest.mark.parametrize(
    ("resource_type", "properties"), ORIGINAL_ARGUMENTS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_original_arguments_are_kept(prod_synth: str, resource_type: str, properties: dict[str, Any]) -> None:
    assert core.Testing.to_have_resource_with_properties(prod_synth, resource_type, properties)


def test_a_wrong_expectation_is_caught(prod_synth: str) -> None:
    """The assertion helper really compares: a changed value does not match."""
    assert not core.Testing.to_have_resource_with_properties(prod_synth, "aws_vpc", {"cidr_block": "10.1.0.0/16"})


def test_provider_uses_region_variable_and_default_tags(prod_stack: dict[str, Any]) -> None:
    (provider,) = prod_stack["provider"]["aws"]
    assert provider["region"] == "${var.aws_region}"
    assert provider["default_tags"] == [{"tags": "${var.tags}"}]
    assert prod_stack["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"


def test_tag_keys_keep_their_case(prod_stack: dict[str, Any]) -> None:
    assert prod_stack["variable"]["tags"]["default"] == ORIGINAL_TAGS


def test_dev_is_the_same_stack_under_its_own_names(dev_stack: dict[str, Any], prod_stack: dict[str, Any]) -> None:
    # Only the account-wide API Gateway logging role stays with production; the test prod
    # stack also has the alarm e-mail its deployable synth requires (dev's is optional).
    assert set(prod_stack["resource"]) - set(dev_stack["resource"]) == {
        "aws_api_gateway_account",
        "aws_sns_topic_subscription",
    }
    assert set(dev_stack["resource"]) <= set(prod_stack["resource"])
    assert dev_stack["resource"]["aws_lambda_function"]["main"]["function_name"] == "tap_stack_dev_lambda"
    assert dev_stack["variable"]["dynamodb_table_name"]["default"] == "tap_stack_dev_data"
    assert dev_stack["variable"]["lambda_log_bucket_name"]["default"] == "tap-stack-dev-logs-bucket"
    assert dev_stack["variable"]["api_key_secret_name"]["default"] == "tap_stack_dev_api_keys"
    assert dev_stack["terraform"]["backend"]["s3"]["key"] == "tap-stack/dev/terraform.tfstate"
    prod_names = account_wide_names(prod_stack)
    assert len(prod_names) > 15
    assert not prod_names & account_wide_names(dev_stack), "dev and prod would collide in one account"


#: Types whose names only need to be unique within a parent (a scalable target, a role).
PARENT_SCOPED_NAMES = {"aws_appautoscaling_policy", "aws_iam_role_policy", "aws_lambda_alias"}
NAME_KEYS = ("name", "function_name", "alarm_name", "bucket")


def account_wide_names(stack: dict[str, Any]) -> set[str]:
    """Literal names of resources that must be unique in an account and region."""
    names = set()
    for resource_type, block in stack["resource"].items():
        if resource_type in PARENT_SCOPED_NAMES:
            continue
        for body in block.values():
            names.update(v for k in NAME_KEYS if isinstance(v := body.get(k), str) and "${" not in v)
    return names
