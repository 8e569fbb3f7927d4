"""CodeDeploy operations moto 5.2 lacks or answers wrongly, which the AWS provider needs to
deploy, update and destroy ``aws_codedeploy_app`` and ``aws_codedeploy_deployment_group``:
``GetDeploymentGroup`` with the stored alarms and no empty ``loadBalancerInfo``, and
``UpdateDeploymentGroup``, ``DeleteDeploymentGroup`` and ``DeleteApplication`` (docs/local.md,
"The emulator's mends"). Deployments stay as moto records them (docs/rollout.md).
"""

from __future__ import annotations

from typing import Any

from moto.codedeploy import responses as codedeploy_responses
from moto.codedeploy.exceptions import ApplicationDoesNotExistException
from moto.codedeploy.models import CodeDeployBackend, DeploymentGroup
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult, EmptyResult

#: UpdateDeploymentGroup request field -> DeploymentGroup attribute, for what a Lambda group uses.
_UPDATABLE = {
    "deploymentConfigName": "deployment_config_name",
    "serviceRoleArn": "service_role_arn",
    "alarmConfiguration": "alarm_configuration",
    "autoRollbackConfiguration": "auto_rollback_configuration",
    "deploymentStyle": "deployment_style",
    "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
    "triggerConfigurations": "trigger_configurations",
    "outdatedInstancesStrategy": "outdated_instances_strategy",
}


_ORIGINAL_GROUP_INFO = codedeploy_responses._deployment_group_info


def _group_info_with_alarms(deployment_group: DeploymentGroup) -> dict[str, Any]:
    info = _ORIGINAL_GROUP_INFO(deployment_group)
    info["alarmConfiguration"] = deployment_group.alarm_configuration or {}
    if not info.get("loadBalancerInfo"):
        info.pop("loadBalancerInfo", None)
    return info


def _update_deployment_group(self: CodeDeployResponse) -> ActionResult:
    backend: CodeDeployBackend = self.codedeploy_backend
    application = self._get_param("applicationName")
    current = self._get_param("currentDeploymentGroupName")
    group = backend.get_deployment_group(application, current)
    for field, attribute in _UPDATABLE.items():
        value = self._get_param(field)
        if value is not None:
            setattr(group, attribute, value)
    new_name = self._get_param("newDeploymentGroupName")
    if new_name and new_name != current:
        groups = backend.deployment_groups[application]
        groups[new_name] = groups.pop(current)
        group.deployment_group_name = new_name
    return ActionResult({"hooksNotCleanedUp": []})


def _delete_deployment_group(self: CodeDeployResponse) -> ActionResult:
    backend: CodeDeployBackend = self.codedeploy_backend
    application = self._get_param("applicationName")
    name = self._get_param("deploymentGroupName")
    backend.get_deployment_group(application, name)  # raises the service's own errors
    del backend.deployment_groups[application][name]
    return ActionResult({"hooksNotCleanedUp": []})


def _delete_application(self: CodeDeployResponse) -> EmptyResult:
    backend: CodeDeployBackend = self.codedeploy_backend
    name = self._get_param("applicationName")
    if name not in backend.applications:
        raise ApplicationDoesNotExistException(f"The application {name} does not exist with the user or AWS account.")
    del backend.applications[name]
    backend.deployment_groups.pop(name, None)
    return EmptyResult()


def mend_codedeploy() -> None:
    """Install the operations above on moto's CodeDeploy (once; ``workspace.patches.apply`` calls it)."""
    codedeploy_responses._deployment_group_info = _group_info_with_alarms
    CodeDeployResponse.update_deployment_group = _update_deployment_group  # type: ignore[attr-defined]
    CodeDeployResponse.delete_deployment_group = _delete_deployment_group  # type: ignore[attr-defined]
    CodeDeployResponse.delete_application = _delete_application  # type: ignore[attr-defined]
