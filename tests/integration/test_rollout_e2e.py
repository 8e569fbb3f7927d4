"""Gradual rollout on the deployed local platform: what the emulator can show of it.

Uses the session's ``deployment`` (the whole stack applied to moto by ``make local``'s code
path). Checked here: the function publishes versions, ``live`` points at one, API Gateway's
integration invokes ``live`` and may, the CodeDeploy group holds the alarms and rollback
settings, and ``python -m rollout`` creates a deployment from version N to N+1 with the
AppSpec CodeDeploy runs, refuses a second one while the first has not ended, refuses a
version that does not exist and says so when ``live`` already serves the version asked for.
moto records a deployment and never runs it (no traffic shift, no alarm polling, no
rollback): ``live`` stays on N, as the last test checks; docs/rollout.md says what only AWS
shows. Each command's wall time is printed (``-rP``) for docs/rollout.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.integration.local_deployment import Deployment
from workspace.paths import PROJECT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _outputs(deployment: Deployment) -> dict[str, Any]:
    from workspace.terraform import emulator_env, run_terraform  # noqa: PLC0415 (only here)

    result = run_terraform(["output", "-json"], deployment.paths.stack_dir, emulator_env())
    assert result.returncode == 0, result.stdout[-2000:]
    return {name: body["value"] for name, body in json.loads(result.stdout).items()}


def _rollout(deployment: Deployment, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m rollout --env local`` against the deployment's emulator; (result, seconds)."""
    command = [sys.executable, "-m", "rollout", "--env", "local", "--endpoint", deployment.session.endpoint, *args]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=PROJECT, env=deployment.env, text=True, capture_output=True, timeout=300, check=False
    )
    seconds = time.monotonic() - started
    print(f"rollout timing: {' '.join(args) or '(latest)'}: exit {result.returncode} in {seconds:.2f} s")
    return result, seconds


def _deployments(deployment: Deployment, outputs: dict[str, Any]) -> list[str]:
    listed = deployment.client("codedeploy").list_deployments(
        applicationName=outputs["codedeploy_app_name"], deploymentGroupName=outputs["codedeploy_deployment_group_name"]
    )
    return list(listed["deployments"])


def test_versions_alias_and_the_integration_that_invokes_it(deployment: Deployment) -> None:
    outputs = _outputs(deployment)
    function, alias_name = outputs["lambda_function_name"], outputs["lambda_alias_name"]
    lambda_client = deployment.client("lambda")
    versions = [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName=function)["Versions"]]
    assert "1" in versions, versions  # publish = true: the apply published version 1
    alias = lambda_client.get_alias(FunctionName=function, Name=alias_name)
    assert alias["FunctionVersion"] in versions and alias["FunctionVersion"] != "$LATEST"
    assert alias["AliasArn"] == outputs["lambda_alias_arn"]

    apigateway = deployment.client("apigateway")
    api_id = outputs["api_gateway_id"]
    (resource,) = [r for r in apigateway.get_resources(restApiId=api_id)["items"] if r.get("pathPart") == "lambda"]
    integration = apigateway.get_integration(restApiId=api_id, resourceId=resource["id"], httpMethod="POST")
    assert integration["uri"].endswith(f"/functions/{outputs['lambda_alias_arn']}/invocations"), integration["uri"]

    policy = json.loads(lambda_client.get_policy(FunctionName=function, Qualifier=alias_name)["Policy"])
    (live,) = [s for s in policy["Statement"] if s["Sid"] == "AllowApiGatewayInvokeLive"]
    assert live["Resource"] == outputs["lambda_alias_arn"]
    assert live["Principal"] == {"Service": "apigateway.amazonaws.com"}


def test_the_deployment_group_rolls_back_on_the_alarms(deployment: Deployment) -> None:
    outputs = _outputs(deployment)
    codedeploy = deployment.client("codedeploy")
    app = codedeploy.get_application(applicationName=outputs["codedeploy_app_name"])["application"]
    assert app["computePlatform"] == "Lambda"
    group = codedeploy.get_deployment_group(
        applicationName=outputs["codedeploy_app_name"], deploymentGroupName=outputs["codedeploy_deployment_group_name"]
    )["deploymentGroupInfo"]
    assert group["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["deploymentStyle"] == {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    assert group["autoRollbackConfiguration"]["enabled"] is True
    assert set(group["autoRollbackConfiguration"]["events"]) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    alarms = {a["name"] for a in group["alarmConfiguration"]["alarms"]}
    assert group["alarmConfiguration"]["enabled"] is True
    assert alarms == {
        outputs["cloudwatch_alarm_5xx_name"],
        "tap_stack_local_lambda_errors",
        "tap_stack_local_api_latency_p95",
    }
    cloudwatch = deployment.client("cloudwatch")
    assert {a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmNames=sorted(alarms))["MetricAlarms"]} == alarms
    role = group["serviceRoleArn"].rsplit("/", 1)[1]
    attached = deployment.client("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSCodeDeployRoleForLambdaLimited"]


def test_a_rollout_from_n_to_n_plus_1_and_what_it_refuses(deployment: Deployment) -> None:
    outputs = _outputs(deployment)
    function, alias_name = outputs["lambda_function_name"], outputs["lambda_alias_name"]
    lambda_client = deployment.client("lambda")
    current = lambda_client.get_alias(FunctionName=function, Name=alias_name)["FunctionVersion"]

    result, _ = _rollout(deployment)
    assert result.returncode == 0, result.stderr
    assert f"already serves version {current}; nothing to roll out" in result.stdout
    assert _deployments(deployment, outputs) == []

    result, _ = _rollout(deployment, "--version", "999")
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip() == (
        f"rollout: version 999 of {function} does not exist (published: {current}); nothing changed"
    )
    assert _deployments(deployment, outputs) == []

    # What a deploy of changed code does: Lambda publishes version N+1, `live` stays on N.
    lambda_client.update_function_configuration(FunctionName=function, Description="rollout e2e")
    target = lambda_client.publish_version(FunctionName=function)["Version"]
    assert int(target) == int(current) + 1

    # --wait follows the deployment, one line per change; moto never runs it, so the wait runs out.
    result, _ = _rollout(deployment, "--wait", "--wait-timeout", "1", "--poll-seconds", "0.2")
    assert result.returncode == 1, result.stderr
    (created,) = _deployments(deployment, outputs)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"rollout: deployment {created} created: {function}:{alias_name} version {current} ->")
    assert lines[0].endswith(
        f"{target} by CodeDeployDefault.LambdaCanary10Percent5Minutes ({outputs['codedeploy_app_name']}/"
        f"{outputs['codedeploy_deployment_group_name']})"
    )
    assert lines[1].endswith(f"Created    live: v{current} 100%")  # one line: the status never changed
    assert (
        lines[2] == f"rollout: deployment {created} is still Created after 1 s; it goes on "
        f"(aws deploy get-deployment --deployment-id {created})"
    )
    assert len(lines) == 3
    info = deployment.client("codedeploy").get_deployment(deploymentId=created)["deploymentInfo"]
    assert info["revision"]["revisionType"] == "AppSpecContent"
    appspec = json.loads(info["revision"]["appSpecContent"]["content"])
    properties = {"Name": function, "Alias": alias_name, "CurrentVersion": current, "TargetVersion": target}
    assert appspec == {
        "version": 0.0,
        "Resources": [{function: {"Type": "AWS::Lambda::Function", "Properties": properties}}],
    }
    assert info["status"] == "Created"  # moto records the deployment and never runs it

    result, _ = _rollout(deployment)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(f"rollout: deployment {created} of {outputs['codedeploy_app_name']}/")
    assert "is still in progress (Created)" in result.stderr and result.stderr.count("\n") == 1
    assert _deployments(deployment, outputs) == [created]

    # moto does not shift traffic: `live` is still on N (on AWS it would be on N+1 after the rollout).
    assert lambda_client.get_alias(FunctionName=function, Name=alias_name)["FunctionVersion"] == current
