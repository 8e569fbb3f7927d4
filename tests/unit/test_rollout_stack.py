"""The rollout resources as synthesized: versions, the ``live`` alias API Gateway invokes,
and the CodeDeploy group that shifts it and rolls back on the alarms (stacks/rollout.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.config import ROLLOUT_CONFIGS, load_config
from stacks.package import LambdaPackage
from stacks.tap_stack import EMULATED_SERVICES

BUCKET = {"TAP_STATE_BUCKET": "my-state-bucket", "TAP_ALARM_EMAILS": "ops@example.com"}


def test_the_function_publishes_and_live_is_left_to_codedeploy(prod_stack: dict[str, Any]) -> None:
    resources = prod_stack["resource"]
    assert resources["aws_lambda_function"]["main"]["publish"] is True
    alias = resources["aws_lambda_alias"]["live"]
    assert alias["name"] == "live"
    assert alias["function_name"] == "${aws_lambda_function.main.function_name}"
    # Created on the version published with the function, then never moved by Terraform.
    assert alias["function_version"] == "${aws_lambda_function.main.version}"
    assert alias["lifecycle"]["ignore_changes"] == ["function_version", "routing_config"]


def test_api_gateway_invokes_the_alias(prod_stack: dict[str, Any]) -> None:
    resources = prod_stack["resource"]
    integration = resources["aws_api_gateway_integration"]["lambda_integration"]
    assert integration["uri"] == "${aws_lambda_alias.live.invoke_arn}"
    permissions = resources["aws_lambda_permission"]
    # The original permission is unchanged (no qualifier: adding one would replace it) ...
    assert "qualifier" not in permissions["api_gateway"]
    assert permissions["api_gateway"]["statement_id"] == "AllowApiGatewayInvoke"
    # ... and a second one lets API Gateway invoke the alias, for the same route only.
    live = permissions["api_gateway_live"]
    assert live["qualifier"] == "${aws_lambda_alias.live.name}"
    assert live["principal"] == "apigateway.amazonaws.com"
    assert live["source_arn"] == permissions["api_gateway"]["source_arn"]
    # A new integration URI makes a new API deployment (the revision hashes the URI).
    revision = json.dumps(resources["terraform_data"]["api_revision"])
    assert "aws_api_gateway_integration.lambda_integration.uri" in revision


def test_codedeploy_shifts_live_and_rolls_back_on_the_alarms(prod_stack: dict[str, Any]) -> None:
    resources = prod_stack["resource"]
    assert resources["aws_codedeploy_app"]["main"]["compute_platform"] == "Lambda"
    group = resources["aws_codedeploy_deployment_group"]["live"]
    assert group["app_name"] == "${aws_codedeploy_app.main.name}"
    assert group["deployment_config_name"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["deployment_style"] == {"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"}
    assert group["auto_rollback_configuration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert group["alarm_configuration"] == {
        "enabled": True,
        "alarms": [
            "${aws_cloudwatch_metric_alarm.apigw_5xx.alarm_name}",
            "${aws_cloudwatch_metric_alarm.lambda_errors.alarm_name}",
            "${aws_cloudwatch_metric_alarm.api_latency_p95.alarm_name}",
        ],
    }
    assert group["service_role_arn"] == "${aws_iam_role.codedeploy.arn}"
    trust = resources["aws_iam_role"]["codedeploy"]["assume_role_policy"]
    assert '"Principal" = {"Service" = "codedeploy.amazonaws.com"}' in trust
    attachment = resources["aws_iam_role_policy_attachment"]["codedeploy"]
    assert attachment["policy_arn"].endswith(":iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited")


def test_rollout_outputs_name_what_the_command_needs(prod_stack: dict[str, Any]) -> None:
    outputs = prod_stack["output"]
    assert outputs["lambda_alias_name"]["value"] == "${aws_lambda_alias.live.name}"
    assert outputs["lambda_alias_arn"]["value"] == "${aws_lambda_alias.live.arn}"
    assert outputs["codedeploy_app_name"]["value"] == "${aws_codedeploy_app.main.name}"
    group = "${aws_codedeploy_deployment_group.live.deployment_group_name}"
    assert outputs["codedeploy_deployment_group_name"]["value"] == group
    for name in ("lambda_alias_name", "lambda_alias_arn", "codedeploy_app_name", "codedeploy_deployment_group_name"):
        assert outputs[name]["description"], name


def test_the_local_stack_sends_codedeploy_to_the_emulator(local_stack: dict[str, Any]) -> None:
    assert "codedeploy" in EMULATED_SERVICES
    (endpoints,) = local_stack["provider"]["aws"][0]["endpoints"]
    assert endpoints["codedeploy"] == "http://127.0.0.1:4566"
    group = local_stack["resource"]["aws_codedeploy_deployment_group"]["live"]
    assert group["deployment_group_name"] == "tap_stack_local_live"


@pytest.mark.parametrize(
    ("setting", "config_name"),
    [
        (None, "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
        ("linear10-1m", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
        (" ALL-AT-ONCE ", "CodeDeployDefault.LambdaAllAtOnce"),
    ],
)
def test_tap_rollout_names_a_predefined_configuration(setting: str | None, config_name: str) -> None:
    environ = BUCKET if setting is None else {**BUCKET, "TAP_ROLLOUT": setting}
    assert ROLLOUT_CONFIGS[load_config("prod", environ).rollout] == config_name


def test_every_rollout_is_a_predefined_lambda_configuration() -> None:
    assert all(name.startswith("CodeDeployDefault.Lambda") for name in ROLLOUT_CONFIGS.values())
    assert len(set(ROLLOUT_CONFIGS.values())) == len(ROLLOUT_CONFIGS)


def test_the_setting_reaches_the_deployment_group(lambda_package: LambdaPackage) -> None:
    from stacks.cdk import core  # noqa: PLC0415 (the CDK library loads only for the tests that synthesize)
    from stacks.tap_stack import TapStack  # noqa: PLC0415

    config = load_config("dev", {"TAP_BACKEND": "local", "TAP_ROLLOUT": "linear10-1m"})
    stack = json.loads(core.Testing.synth(TapStack(core.Testing.app(), config, lambda_package)))
    group = stack["resource"]["aws_codedeploy_deployment_group"]["live"]
    assert group["deployment_config_name"] == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
