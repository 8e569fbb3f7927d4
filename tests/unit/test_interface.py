"""Variables, outputs and the state backend: what Terraform users see from outside."""

from __future__ import annotations

import re
from typing import Any

ORIGINAL_VARIABLES = {
    "aws_region": ("string", "us-west-2", "AWS region for all resources"),
    "lambda_allowed_ips": ("list(string)", ["203.0.113.1", "198.51.100.2"], "List of known IP addresses allowed to access API Gateway"),
    "dynamodb_table_name": ("string", "tap_stack_data", "Name of the DynamoDB table"),
    "lambda_log_bucket_name": ("string", "tap-stack-logs-bucket", "Name of the S3 bucket for Lambda logs"),
    "tags": ("map(string)", {"Project": "TapStack", "Environment": "Production", "Owner": "TuringGPT", "ManagedBy": "Terraform"},
             "Tags for all resources"),
    "api_key_secret_name": ("string", "tap_stack_api_keys", "Name of the secret in AWS Secrets Manager for API keys"),
}  # fmt: skip

ORIGINAL_OUTPUTS = {
    "lambda_function_name": "${aws_lambda_function.main.function_name}",
    "dynamodb_table_name": "${aws_dynamodb_table.data.name}",
    "api_gateway_id": "${aws_api_gateway_rest_api.main.id}",
    "s3_log_bucket_name": "${aws_s3_bucket.lambda_logs.bucket}",
    "api_key_secret_arn": "${aws_secretsmanager_secret.api_keys.arn}",
    "cloudwatch_alarm_4xx_name": "${aws_cloudwatch_metric_alarm.apigw_4xx.alarm_name}",
    "cloudwatch_alarm_5xx_name": "${aws_cloudwatch_metric_alarm.apigw_5xx.alarm_name}",
}


def test_original_variables_keep_name_type_default_description(prod_stack: dict[str, Any]) -> None:
    variables = prod_stack["variable"]
    assert set(variables) == set(ORIGINAL_VARIABLES)
    for name, (type_, default, description) in ORIGINAL_VARIABLES.items():
        assert variables[name]["type"] == type_, name
        assert variables[name]["default"] == default, name
        assert variables[name]["description"] == description, name


def test_every_variable_is_validated(prod_stack: dict[str, Any]) -> None:
    for name, body in prod_stack["variable"].items():
        checks = body.get("validation", [])
        assert checks, f"{name} has no validation block"
        for check in checks:
            assert f"var.{name}" in check["condition"] and check["condition"].startswith("${")
            assert message_names_its_variable(name, check["error_message"]), check["error_message"]


def message_names_its_variable(name: str, message: str) -> bool:
    """A validation error is one line that says which variable is wrong."""
    return re.search(rf"\b{re.escape(name)}\b", message) is not None and "\n" not in message.strip()


def test_a_message_that_does_not_name_its_variable_is_caught() -> None:
    assert message_names_its_variable("tags", "tags keys must be 1-128 characters.")
    assert not message_names_its_variable("tags", "Keys must be 1-128 characters.")
    assert not message_names_its_variable("aws_region", "aws_region_name must be set.")
    assert not message_names_its_variable("tags", "tags must be\nshort.")


def test_original_outputs_keep_names_and_values(prod_stack: dict[str, Any]) -> None:
    outputs = prod_stack["output"]
    for name, value in ORIGINAL_OUTPUTS.items():
        assert outputs[name]["value"] == value, name


def test_added_outputs_serve_api_callers(prod_stack: dict[str, Any]) -> None:
    outputs = prod_stack["output"]
    assert outputs["api_invoke_url"]["value"] == "${aws_api_gateway_stage.prod.invoke_url}/lambda"
    assert outputs["lambda_function_arn"]["value"] == "${aws_lambda_function.main.arn}"
    assert outputs["dynamodb_table_arn"]["value"] == "${aws_dynamodb_table.data.arn}"
    assert all(body.get("description") for body in outputs.values())


def test_prod_backend_is_s3_with_lock_file(prod_stack: dict[str, Any]) -> None:
    assert prod_stack["terraform"]["backend"] == {
        "s3": {
            "bucket": "tap-stack-test-state",
            "key": "tap-stack/prod/terraform.tfstate",
            "region": "us-west-2",
            "encrypt": True,
            "use_lockfile": True,
        }
    }


def test_local_environment_points_provider_and_backend_at_the_emulator(local_stack: dict[str, Any]) -> None:
    backend = local_stack["terraform"]["backend"]["s3"]
    assert backend["bucket"] == "tap-stack-local-tfstate"
    assert backend["endpoints"]["s3"] == "http://127.0.0.1:4566"
    assert backend["use_lockfile"] is True
    (provider,) = local_stack["provider"]["aws"]
    endpoints = provider["endpoints"][0]
    assert {endpoints[s] for s in ("lambda", "dynamodb", "apigateway", "sts")} == {"http://127.0.0.1:4566"}
    assert provider["access_key"] == "test"
