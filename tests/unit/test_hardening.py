"""The original's defects, each checked on the synthesized stack.

Every test here fails against the original HCL's behaviour (noted per test).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stacks.config import SUPPORTED_RUNTIMES
from tests.conftest import TEST_ALARM_TOPIC, TEST_CORS_ORIGIN


def resource(stack: dict[str, Any], address: str) -> dict[str, Any]:
    kind, name = address.split(".")
    return stack["resource"][kind][name]


def policy(stack: dict[str, Any], address: str) -> str:
    """A policy's jsonencode expression, whitespace-normalised for matching."""
    return " ".join(resource(stack, address)["policy"].split())


def test_1_runtime_is_supported(prod_stack: dict[str, Any]) -> None:
    """Original: python3.8, which Lambda no longer creates or updates."""
    runtime = resource(prod_stack, "aws_lambda_function.main")["runtime"]
    assert runtime == "python3.12" and runtime in SUPPORTED_RUNTIMES


def test_2_function_is_deployed_from_the_built_package(prod_stack: dict[str, Any]) -> None:
    """Original: filename = "function.zip", uploaded by hand, no source_code_hash."""
    function = resource(prod_stack, "aws_lambda_function.main")
    assert function["filename"] != "function.zip" and function["filename"].startswith("assets/")
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", function["source_code_hash"])


def test_3_api_gateway_may_invoke_the_function_for_this_method_only(prod_stack: dict[str, Any]) -> None:
    """Original: no aws_lambda_permission, so every call failed with 500."""
    permission = resource(prod_stack, "aws_lambda_permission.api_gateway")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["function_name"] == "${aws_lambda_function.main.function_name}"
    assert permission["source_arn"] == (
        "${aws_api_gateway_rest_api.main.execution_arn}/*/"
        "${aws_api_gateway_method.lambda_method.http_method}${aws_api_gateway_resource.lambda_resource.path}"
    )


def test_4_ip_allowlist_is_enforced_by_a_resource_policy(prod_stack: dict[str, Any]) -> None:
    """Original: the allowlist was an IAM policy attached to nothing, with Resource "*"."""
    rest_policy = policy(prod_stack, "aws_api_gateway_rest_api_policy.ip_allowlist")
    assert resource(prod_stack, "aws_api_gateway_rest_api_policy.ip_allowlist")["rest_api_id"] == (
        "${aws_api_gateway_rest_api.main.id}"
    )
    assert '"Effect" = "Deny"' in rest_policy
    assert '"NotIpAddress" = {"aws:SourceIp" = var.lambda_allowed_ips}' in rest_policy
    assert '"Principal" = {"AWS" = "arn:${data.aws_partition.current.partition}:iam::' in rest_policy
    caller_policy = policy(prod_stack, "aws_iam_policy.api_gw_ip_restrict")
    assert '"Resource" = "${aws_api_gateway_rest_api.main.execution_arn}/*"' in caller_policy
    assert '"Resource" = "*"' not in caller_policy


def test_5_account_has_the_api_gateway_logging_role(prod_stack: dict[str, Any], dev_stack: dict[str, Any]) -> None:
    """Original: INFO logging without the account's CloudWatch role fails in a fresh account."""
    account = resource(prod_stack, "aws_api_gateway_account.main")
    assert account["cloudwatch_role_arn"] == "${aws_iam_role.apigw_cloudwatch.arn}"
    attachment = resource(prod_stack, "aws_iam_role_policy_attachment.apigw_cloudwatch")
    assert attachment["policy_arn"].endswith(":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    assert "aws_api_gateway_account.main" in resource(prod_stack, "aws_api_gateway_stage.prod")["depends_on"]
    assert "aws_api_gateway_account" not in dev_stack["resource"], "one setting per account: production owns it"


def test_6_gateway_responses_keep_their_own_status(prod_stack: dict[str, Any]) -> None:
    """Original: DEFAULT_4XX forced to 400, hiding 403 and 429 from clients."""
    assert "status_code" not in resource(prod_stack, "aws_api_gateway_gateway_response.cors")


def test_7_deployment_follows_api_changes(prod_stack: dict[str, Any]) -> None:
    """Original: no triggers, so API changes never reached the stage."""
    deployment = resource(prod_stack, "aws_api_gateway_deployment.main")
    assert deployment["lifecycle"] == {
        "create_before_destroy": True,
        "replace_triggered_by": ["terraform_data.api_revision"],
    }
    revision = resource(prod_stack, "terraform_data.api_revision")["triggers_replace"]["revision"]
    for part in ("lambda_resource.id", "lambda_method.id", "lambda_integration.uri", "ip_allowlist.policy"):
        assert part in revision


def test_8_function_policy_is_least_privilege(prod_stack: dict[str, Any]) -> None:
    """Original: GetSecretValue on "*", logs on every log group, Scan allowed."""
    document = policy(prod_stack, "aws_iam_policy.lambda_policy")
    assert '"Resource" = "*"' not in document
    assert '"secretsmanager:GetSecretValue", "Resource" = aws_secretsmanager_secret.api_keys.arn' in document
    assert '"Resource" = "${aws_cloudwatch_log_group.lambda.arn}:*"' in document
    assert '"Resource" = "${aws_s3_bucket.lambda_logs.arn}/audit/*"' in document
    assert "dynamodb:Scan" not in document and "logs:CreateLogGroup" not in document
    group = resource(prod_stack, "aws_cloudwatch_log_group.lambda")
    assert group["name"] == "/aws/lambda/tap_stack_lambda"
    assert group["retention_in_days"] == 365


def test_9_function_runs_in_private_subnets_behind_closed_groups(prod_stack: dict[str, Any]) -> None:
    """Original: a world-open group attached to nothing, and no subnets at all."""
    vpc_config = resource(prod_stack, "aws_lambda_function.main")["vpc_config"]
    assert vpc_config["security_group_ids"] == ["${aws_security_group.api_gw_sg.id}"]
    assert vpc_config["subnet_ids"] == ["${aws_subnet.private_a.id}", "${aws_subnet.private_b.id}"]
    assert "aws_internet_gateway" not in prod_stack["resource"]
    assert "aws_nat_gateway" not in prod_stack["resource"]
    endpoints = prod_stack["resource"]["aws_vpc_endpoint"]
    assert {e["service_name"].rsplit(".", 1)[1] for e in endpoints.values()} == {"dynamodb", "s3", "secretsmanager"}
    text = json.dumps(prod_stack["resource"])
    groups = prod_stack["resource"]["aws_security_group"]
    for name, group in groups.items():
        for rule in group.get("ingress", []):
            assert "0.0.0.0/0" not in (rule.get("cidr_blocks") or []), name
        for rule in group.get("ingress", []) + group.get("egress", []):
            assert rule["description"], name
        assert text.count(f"aws_security_group.{name}.id") >= 1, f"{name} is attached to nothing"
    assert groups["api_gw_sg"]["ingress"] == []
    default = resource(prod_stack, "aws_default_security_group.main")
    assert default["ingress"] == [] and default["egress"] == []


def test_9_vpc_placement_and_allowlist_are_switches(switched_off_stack: dict[str, Any]) -> None:
    """Switched off, the function runs outside the VPC and the API has no resource policy."""
    resources = switched_off_stack["resource"]
    assert "vpc_config" not in resources["aws_lambda_function"]["main"]
    assert "aws_subnet" not in resources and "aws_vpc_endpoint" not in resources
    assert "lambda_vpc_access" not in resources["aws_iam_role_policy_attachment"]
    assert "aws_api_gateway_rest_api_policy" not in resources
    assert "policy" not in resources["terraform_data"]["api_revision"]["triggers_replace"]["revision"]
    table = resources["aws_dynamodb_table"]["data"]
    assert table["lifecycle"]["ignore_changes"] == ["read_capacity", "write_capacity"]  # index changes allowed
    checks = switched_off_stack["variable"]["lambda_allowed_ips"]["validation"]
    assert not any("length(var.lambda_allowed_ips) > 0" in c["condition"] for c in checks)


def test_10_promised_protections_exist(prod_stack: dict[str, Any]) -> None:
    """Original: PITR, deletion protection, bucket hardening, alarms with actions… all missing."""
    table = resource(prod_stack, "aws_dynamodb_table.data")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    block = resource(prod_stack, "aws_s3_bucket_public_access_block.lambda_logs")
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert '"aws:SecureTransport" = "false"' in policy(prod_stack, "aws_s3_bucket_policy.lambda_logs")
    rules = resource(prod_stack, "aws_s3_bucket_lifecycle_configuration.lambda_logs")["rule"]
    assert any(r.get("noncurrent_version_expiration") for r in rules)
    assert any(t["storage_class"] == "STANDARD_IA" for r in rules for t in r.get("transition", []))
    stage = resource(prod_stack, "aws_api_gateway_stage.prod")
    assert stage["xray_tracing_enabled"] is True
    execution_logs = resource(prod_stack, "aws_cloudwatch_log_group.api_execution")
    assert execution_logs["name"] == "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.main.id}/prod"
    assert "aws_cloudwatch_log_group.api_execution" in stage["depends_on"]
    settings_depends = resource(prod_stack, "aws_api_gateway_method_settings.prod_settings")["depends_on"]
    assert "aws_cloudwatch_log_group.api_execution" in settings_depends
    assert stage["access_log_settings"]["destination_arn"] == "${aws_cloudwatch_log_group.api_access.arn}"
    settings = resource(prod_stack, "aws_api_gateway_method_settings.prod_settings")["settings"]
    assert settings["throttling_rate_limit"] == 100 and settings["throttling_burst_limit"] == 200
    alarms = prod_stack["resource"]["aws_cloudwatch_metric_alarm"]
    assert {"lambda_errors", "lambda_throttles", "dynamodb_read_throttles", "dynamodb_write_throttles"} <= set(alarms)
    for name, alarm in alarms.items():
        assert alarm["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"], name
    assert resource(prod_stack, "aws_sns_topic.alarms")["kms_master_key_id"] == "${aws_kms_key.main.arn}"


#: The alarm topic the stack creates, as a reference.
TOPIC = "${aws_sns_topic.alarms.arn}"


def test_10_alarms_reach_their_destinations(
    prod_stack: dict[str, Any], dev_stack: dict[str, Any], switched_off_stack: dict[str, Any]
) -> None:
    """prod (a deployable synth) has its address; dev's destination stays optional; several
    addresses get one subscription each, and an existing topic is notified by every alarm."""
    assert prod_stack["resource"]["aws_sns_topic_subscription"] == {
        "alarm_email": {**resource(prod_stack, "aws_sns_topic_subscription.alarm_email"), "endpoint": "ops@example.com"}
    }
    assert "aws_sns_topic_subscription" not in dev_stack["resource"]
    first = resource(switched_off_stack, "aws_sns_topic_subscription.alarm_email")
    assert first == {**first, "protocol": "email", "endpoint": "ops@example.com", "topic_arn": TOPIC}
    others = resource(switched_off_stack, "aws_sns_topic_subscription.alarm_email_others")
    assert others["for_each"] == '${toset(["oncall+tap@example.org", "lead@example.net"])}'
    assert (others["endpoint"], others["protocol"], others["topic_arn"]) == ("${each.value}", "email", TOPIC)
    for name, alarm in switched_off_stack["resource"]["aws_cloudwatch_metric_alarm"].items():
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [TOPIC, TEST_ALARM_TOPIC], name


def test_cors_origin_is_a_setting(prod_stack: dict[str, Any], switched_off_stack: dict[str, Any]) -> None:
    """The original's placeholder stays the default (parity); TAP_CORS_ORIGIN replaces it."""
    header = "gatewayresponse.header.Access-Control-Allow-Origin"
    for stack, origin in ((prod_stack, "https://google.com"), (switched_off_stack, TEST_CORS_ORIGIN)):
        response = resource(stack, "aws_api_gateway_gateway_response.cors")
        assert response["response_parameters"][header] == f"'{origin}'"


@pytest.mark.parametrize(("stack", "window"), [("prod_stack", 30), ("dev_stack", 0)])
def test_11_secret_recovery_window_is_a_setting(request: pytest.FixtureRequest, stack: str, window: int) -> None:
    """Original: the default 30-day window blocked destroy-then-redeploy under the same name."""
    secret = resource(request.getfixturevalue(stack), "aws_secretsmanager_secret.api_keys")
    assert secret["recovery_window_in_days"] == window


@pytest.mark.parametrize(("stack", "cache"), [("prod_stack", True), ("dev_stack", False)])
def test_12_cache_cluster_is_a_setting(request: pytest.FixtureRequest, stack: str, cache: bool) -> None:
    """Original: a $15/month cache cluster always on, caching nothing for a POST API."""
    stage = resource(request.getfixturevalue(stack), "aws_api_gateway_stage.prod")
    assert stage["cache_cluster_enabled"] is cache
    assert ("cache_cluster_size" in stage) is cache


def test_everything_stored_is_encrypted_with_the_stack_key(prod_stack: dict[str, Any]) -> None:
    key = "${aws_kms_key.main.arn}"
    assert resource(prod_stack, "aws_dynamodb_table.data")["server_side_encryption"] == {
        "enabled": True,
        "kms_key_arn": key,
    }
    assert resource(prod_stack, "aws_secretsmanager_secret.api_keys")["kms_key_id"] == key
    assert resource(prod_stack, "aws_lambda_function.main")["kms_key_arn"] == key
    for group in prod_stack["resource"]["aws_cloudwatch_log_group"].values():
        assert group["kms_key_id"] == key
    sse = resource(prod_stack, "aws_s3_bucket_server_side_encryption_configuration.lambda_logs")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": key}
    assert resource(prod_stack, "aws_kms_key.main")["enable_key_rotation"] is True


def test_autoscaled_capacity_survives_deploys(prod_stack: dict[str, Any], dev_stack: dict[str, Any]) -> None:
    """Original: an apply reset scaled-up capacity to 5. The table's capacity and, unless index
    changes are switched on for a deploy, the index blocks (with their capacity) are ignored;
    the indexes themselves are still declared, so a new table gets them."""
    for stack in (prod_stack, dev_stack):
        table = resource(stack, "aws_dynamodb_table.data")
        assert table["lifecycle"]["ignore_changes"] == [
            "read_capacity",
            "write_capacity",
            "global_secondary_index",
            "attribute",
        ]
        assert {i["name"] for i in table["global_secondary_index"]} == {
            "status-created-index",
            "status-queue-index",
            "queue-shard-index",
        }
