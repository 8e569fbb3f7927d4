"""The emulator's CodeDeploy mends (workspace/codedeploy_mend.py), in seconds, on a throwaway
emulator: what the AWS provider needs to apply, update and destroy the rollout resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from workspace import emulator

pytestmark = pytest.mark.timeout(120)

ROLE = "arn:aws:iam::123456789012:role/codedeploy"


@pytest.fixture(scope="module")
def codedeploy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with emulator.temporary(tmp_path_factory.mktemp("emulator") / "local") as running:
        yield running.client("codedeploy")


def _group(codedeploy: Any, app: str, name: str) -> dict[str, Any]:
    return dict(codedeploy.get_deployment_group(applicationName=app, deploymentGroupName=name)["deploymentGroupInfo"])


def test_a_group_keeps_its_alarms_and_has_no_empty_load_balancer(codedeploy: Any) -> None:
    codedeploy.create_application(applicationName="alarms", computePlatform="Lambda")
    alarms = {"enabled": True, "alarms": [{"name": "api_5xx"}, {"name": "lambda_errors"}]}
    codedeploy.create_deployment_group(
        applicationName="alarms", deploymentGroupName="live", serviceRoleArn=ROLE, alarmConfiguration=alarms
    )
    info = _group(codedeploy, "alarms", "live")
    assert info["alarmConfiguration"] == alarms  # moto answered {} here
    assert "loadBalancerInfo" not in info  # moto answered {} here, an empty block to the provider


def test_a_group_is_updated_and_renamed(codedeploy: Any) -> None:
    codedeploy.create_application(applicationName="updates", computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName="updates",
        deploymentGroupName="live",
        serviceRoleArn=ROLE,
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
    )
    codedeploy.update_deployment_group(
        applicationName="updates",
        currentDeploymentGroupName="live",
        newDeploymentGroupName="live2",
        deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce",
        alarmConfiguration={"enabled": True, "alarms": [{"name": "p95"}]},
    )
    info = _group(codedeploy, "updates", "live2")
    assert info["deploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    assert [a["name"] for a in info["alarmConfiguration"]["alarms"]] == ["p95"]
    assert info["serviceRoleArn"] == ROLE  # what the update did not name stays
    with pytest.raises(ClientError, match="DeploymentGroupDoesNotExistException"):
        _group(codedeploy, "updates", "live")


def test_groups_and_applications_are_deleted(codedeploy: Any) -> None:
    codedeploy.create_application(applicationName="gone", computePlatform="Lambda")
    codedeploy.create_deployment_group(applicationName="gone", deploymentGroupName="live", serviceRoleArn=ROLE)
    assert (
        codedeploy.delete_deployment_group(applicationName="gone", deploymentGroupName="live")["hooksNotCleanedUp"]
        == []
    )
    assert codedeploy.list_deployment_groups(applicationName="gone")["deploymentGroups"] == []
    with pytest.raises(ClientError, match="DeploymentGroupDoesNotExistException"):
        codedeploy.delete_deployment_group(applicationName="gone", deploymentGroupName="live")
    codedeploy.delete_application(applicationName="gone")
    assert "gone" not in codedeploy.list_applications()["applications"]
    with pytest.raises(ClientError, match="ApplicationDoesNotExistException"):
        codedeploy.delete_application(applicationName="gone")


def test_a_deployment_is_recorded_and_never_runs(codedeploy: Any) -> None:
    """What moto does with a deployment, unmended: records it as Created, and that is all."""
    codedeploy.create_application(applicationName="runs", computePlatform="Lambda")
    codedeploy.create_deployment_group(applicationName="runs", deploymentGroupName="live", serviceRoleArn=ROLE)
    revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}", "sha256": "0" * 64}}
    created = codedeploy.create_deployment(applicationName="runs", deploymentGroupName="live", revision=revision)
    info = codedeploy.get_deployment(deploymentId=created["deploymentId"])["deploymentInfo"]
    assert info["status"] == "Created"
    # StopDeployment does not exist in moto: the server answers 500 (rollback cannot be driven here).
    with pytest.raises(ClientError, match=r"\(500\) when calling the StopDeployment operation"):
        codedeploy.stop_deployment(deploymentId=created["deploymentId"])
    assert codedeploy.get_deployment(deploymentId=created["deploymentId"])["deploymentInfo"]["status"] == "Created"
