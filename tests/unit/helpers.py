"""What several unit test modules share: the original HCL's resource addresses and
the addresses of a synthesized stack.

The original ``main.tf`` is not part of the repository; ``docs/deviations.md`` records
how many resources it had and lists every resource this stack adds, and
test_addresses.py checks this list against both the document and the synthesized stack.
"""

from __future__ import annotations

from typing import Any

#: The resource addresses of the original HCL deployment.
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
    """Every resource address (``type.name``) of a synthesized stack."""
    return [f"{kind}.{name}" for kind, block in stack.get("resource", {}).items() for name in block]
