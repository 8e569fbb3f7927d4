"""The REST API in front of the function: ``POST /lambda`` proxied to the function's ``live``
alias, its deployment and stage, the invoke permissions, the account's CloudWatch role for
stage logging, and the IP allowlist as a resource policy (docs/deviations.md says why each
differs from the original HCL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from stacks.cdk import bindings, core
from stacks.compute import TaskFunction
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.policies import assume_role_policy, policy_document, statement
from stacks.secrets import Encryption

STAGE_NAME = "prod"


@dataclass(frozen=True)
class Route:
    """The original's resource, method and integration for ``POST /lambda``."""

    resource: bindings.api_gateway_resource.ApiGatewayResource
    method: bindings.api_gateway_method.ApiGatewayMethod
    integration: bindings.api_gateway_integration.ApiGatewayIntegration


#: One JSON line per request in the stage's access log.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "user": "$context.identity.user",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationError": "$context.integration.error",
    },
    separators=(",", ":"),
)


class TaskApi(Construct):
    """REST API ``POST /lambda`` → the task function, behind IAM auth and an IP allowlist."""

    def __init__(  # noqa: PLR0913 (the stack's settings and context plus the three parts the API wires up)
        self,
        scope: Construct,
        config: StackConfig,
        aws: AwsContext,
        encryption: Encryption,
        *,
        function: TaskFunction,
        allowed_ips: list[str],
    ) -> None:
        super().__init__(scope, "api")
        self.rest_api = bindings.api_gateway_rest_api.ApiGatewayRestApi(
            self,
            "aws_api_gateway_rest_api.main",
            name=f"{config.name_prefix}_api",
            description="REST API for Lambda",
            tags=aws.tags,
            lifecycle=core.TerraformResourceLifecycle(create_before_destroy=True),
        )
        route = self._route(function)
        invoke_anything = f"{self.rest_api.execution_arn}/*"
        # Callers in this account attach this policy to their principals (SigV4 callers).
        bindings.iam_policy.IamPolicy(
            self,
            "aws_iam_policy.api_gw_ip_restrict",
            name=f"{config.name_prefix}_api_gw_ip_restrict",
            description="Restrict API Gateway access to known IPs",
            policy=policy_document(
                statement("execute-api:Invoke", invoke_anything, condition={"IpAddress": {"aws:SourceIp": allowed_ips}})
            ),
        )
        policy = self._ip_allowlist(aws, allowed_ips) if config.enforce_ip_allowlist else None
        deployment = self._deployment(route, policy)
        self.stage = self._stage(config, aws, encryption, deployment)
        # Without status_code each 4XX keeps its own status (403 stays 403, 429 stays 429).
        bindings.api_gateway_gateway_response.ApiGatewayGatewayResponse(
            self,
            "aws_api_gateway_gateway_response.cors",
            rest_api_id=self.rest_api.id,
            response_type="DEFAULT_4XX",
            response_parameters={
                "gatewayresponse.header.Access-Control-Allow-Origin": f"'{config.cors_allow_origin}'",
                "gatewayresponse.header.Access-Control-Allow-Headers": (
                    "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'"
                ),
                "gatewayresponse.header.Access-Control-Allow-Methods": "'POST,OPTIONS'",
            },
        )

    def _route(self, function: TaskFunction) -> Route:
        """``POST /lambda`` proxied to the function, which API Gateway may now invoke."""
        api_id = self.rest_api.id
        resource = bindings.api_gateway_resource.ApiGatewayResource(
            self,
            "aws_api_gateway_resource.lambda_resource",
            rest_api_id=api_id,
            parent_id=self.rest_api.root_resource_id,
            path_part="lambda",
        )
        method = bindings.api_gateway_method.ApiGatewayMethod(
            self,
            "aws_api_gateway_method.lambda_method",
            rest_api_id=api_id,
            resource_id=resource.id,
            http_method="POST",
            authorization="AWS_IAM",
        )
        integration = bindings.api_gateway_integration.ApiGatewayIntegration(
            self,
            "aws_api_gateway_integration.lambda_integration",
            rest_api_id=api_id,
            resource_id=resource.id,
            http_method=method.http_method,
            integration_http_method="POST",
            type="AWS_PROXY",
            # The alias, not the function: traffic follows `live` as CodeDeploy shifts it.
            uri=function.alias.invoke_arn,
        )
        source_arn = f"{self.rest_api.execution_arn}/*/{method.http_method}{resource.path}"
        # The original permission (unqualified) stays as it was: a qualifier would replace it.
        for address, statement_id, qualifier in (
            ("api_gateway", "AllowApiGatewayInvoke", None),
            ("api_gateway_live", "AllowApiGatewayInvokeLive", function.alias.name),
        ):
            bindings.lambda_permission.LambdaPermission(
                self,
                f"aws_lambda_permission.{address}",
                statement_id=statement_id,
                action="lambda:InvokeFunction",
                function_name=function.function.function_name,
                qualifier=qualifier,
                principal="apigateway.amazonaws.com",
                source_arn=source_arn,
            )
        return Route(resource, method, integration)

    def _ip_allowlist(
        self, aws: AwsContext, allowed_ips: list[str]
    ) -> bindings.api_gateway_rest_api_policy.ApiGatewayRestApiPolicy:
        """Deny every caller whose address is not listed; allow this account's IAM principals."""
        invoke_anything = f"{self.rest_api.execution_arn}/*"
        return bindings.api_gateway_rest_api_policy.ApiGatewayRestApiPolicy(
            self,
            "aws_api_gateway_rest_api_policy.ip_allowlist",
            rest_api_id=self.rest_api.id,
            policy=policy_document(
                statement(
                    "execute-api:Invoke",
                    invoke_anything,
                    principal=aws.account_root,
                    sid="AllowAccountPrincipals",
                ),
                statement(
                    "execute-api:Invoke",
                    invoke_anything,
                    effect="Deny",
                    principal="*",
                    condition={"NotIpAddress": {"aws:SourceIp": allowed_ips}},
                    sid="DenyUnlistedAddresses",
                ),
            ),
        )

    def _deployment(
        self,
        route: Route,
        policy: bindings.api_gateway_rest_api_policy.ApiGatewayRestApiPolicy | None,
    ) -> bindings.api_gateway_deployment.ApiGatewayDeployment:
        """A deployment replaced whenever the route or the resource policy changes.

        API Gateway serves a frozen snapshot, so every such change needs a new one.
        """
        revision_inputs = {
            "resource": route.resource.id,
            "method": core.Fn.jsonencode([route.method.id, route.method.authorization]),
            "integration": core.Fn.jsonencode([route.integration.id, route.integration.uri, route.integration.type]),
        }
        depends_on: list[core.ITerraformDependable] = [route.integration]
        if policy is not None:
            revision_inputs["policy"] = policy.policy
            depends_on.append(policy)
        revision = core.DataResource(
            self,
            "terraform_data.api_revision",
            triggers_replace={"revision": core.Fn.sha1(core.Fn.jsonencode(revision_inputs))},
        )
        return bindings.api_gateway_deployment.ApiGatewayDeployment(
            self,
            "aws_api_gateway_deployment.main",
            rest_api_id=self.rest_api.id,
            depends_on=depends_on,
            # Terraform JSON wants the bare address here, not a "${...}" reference.
            lifecycle=core.TerraformResourceLifecycle(
                create_before_destroy=True, replace_triggered_by=[f"terraform_data.{revision.friendly_unique_id}"]
            ),
        )

    def _stage(
        self,
        config: StackConfig,
        aws: AwsContext,
        encryption: Encryption,
        deployment: bindings.api_gateway_deployment.ApiGatewayDeployment,
    ) -> bindings.api_gateway_stage.ApiGatewayStage:
        """The ``prod`` stage with access logs, tracing, throttling and execution logging."""
        api_id = self.rest_api.id
        logging_ready: list[core.ITerraformDependable] = []
        if config.manage_api_gateway_account:
            logging_ready.append(self._account_logging_role(config, aws))
        # API Gateway would create its execution log group itself, unencrypted and kept
        # forever; created first, it gets the stack's key and retention.
        logging_ready.append(
            encryption.log_group(
                self, "aws_cloudwatch_log_group.api_execution", f"API-Gateway-Execution-Logs_{api_id}/{STAGE_NAME}"
            )
        )
        access_logs = encryption.log_group(
            self, "aws_cloudwatch_log_group.api_access", f"/aws/apigateway/{config.name_prefix}_api/{STAGE_NAME}/access"
        )
        stage = bindings.api_gateway_stage.ApiGatewayStage(
            self,
            "aws_api_gateway_stage.prod",
            rest_api_id=api_id,
            stage_name=STAGE_NAME,
            deployment_id=deployment.id,
            cache_cluster_enabled=config.api_cache_enabled,
            cache_cluster_size="0.5" if config.api_cache_enabled else None,
            xray_tracing_enabled=True,
            access_log_settings=bindings.api_gateway_stage.ApiGatewayStageAccessLogSettings(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            tags=aws.tags,
            depends_on=logging_ready,
        )
        bindings.api_gateway_method_settings.ApiGatewayMethodSettings(
            self,
            "aws_api_gateway_method_settings.prod_settings",
            rest_api_id=api_id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=bindings.api_gateway_method_settings.ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="INFO",
                data_trace_enabled=False,
                cache_data_encrypted=True,
                cache_ttl_in_seconds=300,
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
            ),
            depends_on=logging_ready,
        )
        return stage

    def _account_logging_role(
        self, config: StackConfig, aws: AwsContext
    ) -> bindings.api_gateway_account.ApiGatewayAccount:
        """The per-account, per-region role API Gateway writes execution logs with."""
        role = bindings.iam_role.IamRole(
            self,
            "aws_iam_role.apigw_cloudwatch",
            name=f"{config.name_prefix}_apigw_cloudwatch_role",
            assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
        )
        attachment = bindings.iam_role_policy_attachment.IamRolePolicyAttachment(
            self,
            "aws_iam_role_policy_attachment.apigw_cloudwatch",
            role=role.name,
            policy_arn=aws.managed_policy_arn("service-role/AmazonAPIGatewayPushToCloudWatchLogs"),
        )
        return bindings.api_gateway_account.ApiGatewayAccount(
            self, "aws_api_gateway_account.main", cloudwatch_role_arn=role.arn, depends_on=[attachment]
        )
