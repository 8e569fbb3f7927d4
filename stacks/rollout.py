"""Gradual rollout with automatic rollback: a CodeDeploy application and deployment group that
shift the function's ``live`` alias to a new version as ``TAP_ROLLOUT`` says and roll back on a
failure or a watched alarm. ``python -m rollout`` starts one (docs/rollout.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from stacks.cdk import bindings
from stacks.config import ROLLOUT_CONFIGS, StackConfig
from stacks.context import AwsContext
from stacks.policies import assume_role_policy

deployment_group = bindings.codedeploy_deployment_group

#: CodeDeploy's managed policy for Lambda deployments, the limited variant: read and move
#: aliases, read alarms, invoke only ``CodeDeployHook_*`` functions (docs/rollout.md says why).
CODEDEPLOY_POLICY = "service-role/AWSCodeDeployRoleForLambdaLimited"
#: A deployment that fails, or that an alarm stops, puts the alias back on the old version.
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]


class Rollout(Construct):
    """``aws_codedeploy_app.main`` and ``aws_codedeploy_deployment_group.live`` with their role."""

    def __init__(
        self,
        scope: Construct,
        config: StackConfig,
        aws: AwsContext,
        *,
        rollback_alarms: Sequence[bindings.cloudwatch_metric_alarm.CloudwatchMetricAlarm],
    ) -> None:
        super().__init__(scope, "rollout")
        self.app = bindings.codedeploy_app.CodedeployApp(
            self,
            "aws_codedeploy_app.main",
            name=f"{config.name_prefix}_lambda",
            compute_platform="Lambda",
            tags=aws.tags,
        )
        role = bindings.iam_role.IamRole(
            self,
            "aws_iam_role.codedeploy",
            name=f"{config.name_prefix}_codedeploy_role",
            assume_role_policy=assume_role_policy("codedeploy.amazonaws.com"),
            tags=aws.tags,
        )
        attachment = bindings.iam_role_policy_attachment.IamRolePolicyAttachment(
            self,
            "aws_iam_role_policy_attachment.codedeploy",
            role=role.name,
            policy_arn=aws.managed_policy_arn(CODEDEPLOY_POLICY),
        )
        self.group = deployment_group.CodedeployDeploymentGroup(
            self,
            "aws_codedeploy_deployment_group.live",
            app_name=self.app.name,
            deployment_group_name=f"{config.name_prefix}_live",
            service_role_arn=role.arn,
            deployment_config_name=ROLLOUT_CONFIGS[config.rollout],
            deployment_style=deployment_group.CodedeployDeploymentGroupDeploymentStyle(
                deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN"
            ),
            auto_rollback_configuration=deployment_group.CodedeployDeploymentGroupAutoRollbackConfiguration(
                enabled=True, events=ROLLBACK_EVENTS
            ),
            alarm_configuration=deployment_group.CodedeployDeploymentGroupAlarmConfiguration(
                enabled=True, alarms=[alarm.alarm_name for alarm in rollback_alarms]
            ),
            tags=aws.tags,
            # CodeDeploy checks at creation that it may assume the role with these permissions.
            depends_on=[attachment],
        )
