"""The task API function (``function/``'s package) with its role, policy and log group. Every
deploy that changes it publishes a version; the ``live`` alias moves only through a CodeDeploy
rollout (docs/rollout.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from function.contract import API_KEY_SECRET_ENV, AUDIT_PREFIX, HANDLER, LOG_BUCKET_ENV, TABLE_ENV
from stacks.cdk import bindings, core
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.database import TaskTable
from stacks.network import Network
from stacks.package import LambdaPackage
from stacks.policies import assume_role_policy, policy_document, statement
from stacks.secrets import ApiKeys, Encryption
from stacks.storage import AuditBucket

#: The only DynamoDB actions the task API performs (no Scan: it never reads the whole table;
#: its one transaction, TransactWriteItems, is authorised as the PutItems it holds).
TABLE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
]
#: AWS managed policies: ENI management for a function in a VPC, and X-Ray segment upload.
VPC_ACCESS_POLICY = "service-role/AWSLambdaENIManagementAccess"
XRAY_POLICY = "AWSXRayDaemonWriteAccess"
#: The alias API Gateway invokes; CodeDeploy shifts it from one published version to the next.
LIVE_ALIAS = "live"


def attach_policies(  # noqa: PLR0913, PLR0917 (scope, context and the role, its policy and where it runs)
    scope: Construct,
    aws: AwsContext,
    stem: str,
    role: bindings.iam_role.IamRole,
    policy: bindings.iam_policy.IamPolicy,
    network: Network,
) -> list[bindings.iam_role_policy_attachment.IamRolePolicyAttachment]:
    """A function role's attachments: ``<stem>_policy_attach`` (its own policy), ``<stem>_xray``
    and, in the VPC, ``<stem>_vpc_access``."""
    arns = {"policy_attach": policy.arn, "xray": aws.managed_policy_arn(XRAY_POLICY)}
    if network.placement:
        arns["vpc_access"] = aws.managed_policy_arn(VPC_ACCESS_POLICY)
    return [
        bindings.iam_role_policy_attachment.IamRolePolicyAttachment(
            scope, f"aws_iam_role_policy_attachment.{stem}_{suffix}", role=role.name, policy_arn=arn
        )
        for suffix, arn in arns.items()
    ]


@dataclass(frozen=True)
class FunctionResources:
    """What the function uses: its key, its subnets, its table, bucket and secret."""

    encryption: Encryption
    network: Network
    table: TaskTable
    bucket: AuditBucket
    api_keys: ApiKeys
    secret_name: str


class TaskFunction(Construct):
    """``aws_lambda_function.main`` with role, policy and log group."""

    def __init__(
        self,
        scope: Construct,
        config: StackConfig,
        aws: AwsContext,
        package: LambdaPackage,
        uses: FunctionResources,
    ) -> None:
        super().__init__(scope, "compute")
        encryption, network, bucket = uses.encryption, uses.network, uses.bucket
        function_name = f"{config.name_prefix}_lambda"
        self.log_group = encryption.log_group(self, "aws_cloudwatch_log_group.lambda", f"/aws/lambda/{function_name}")
        self.role = bindings.iam_role.IamRole(
            self,
            "aws_iam_role.lambda_exec",
            name=f"{config.name_prefix}_lambda_exec_role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            tags=aws.tags,
        )
        table_arn = uses.table.table.arn
        policy = bindings.iam_policy.IamPolicy(
            self,
            "aws_iam_policy.lambda_policy",
            name=f"{config.name_prefix}_lambda_policy",
            description="Least privilege policy for Lambda",
            policy=policy_document(
                statement(TABLE_ACTIONS, [table_arn, f"{table_arn}/index/*"]),
                statement(["logs:CreateLogStream", "logs:PutLogEvents"], f"{self.log_group.arn}:*"),
                statement("s3:PutObject", f"{bucket.bucket.arn}/{AUDIT_PREFIX}*"),
                statement("secretsmanager:GetSecretValue", uses.api_keys.secret.arn),
                statement(["kms:Decrypt", "kms:GenerateDataKey"], encryption.key.arn),
            ),
        )
        attachments = attach_policies(self, aws, "lambda", self.role, policy, network)
        asset = core.TerraformAsset(self, "lambda_package", path=str(package.path), type=core.AssetType.FILE)
        self.function = bindings.lambda_function.LambdaFunction(
            self,
            "aws_lambda_function.main",
            function_name=function_name,
            role=self.role.arn,
            handler=HANDLER,
            runtime=config.lambda_runtime,
            filename=asset.path,
            source_code_hash=package.sha256_b64,
            # Each change publishes a numbered version; `live` stays where it is until a rollout.
            publish=True,
            memory_size=config.lambda_memory_mb,
            timeout=config.lambda_timeout_seconds,
            reserved_concurrent_executions=config.reserved_concurrency,
            kms_key_arn=encryption.key.arn,
            environment=bindings.lambda_function.LambdaFunctionEnvironment(
                variables={
                    TABLE_ENV: uses.table.table.name,
                    LOG_BUCKET_ENV: bucket.bucket.bucket,
                    API_KEY_SECRET_ENV: uses.secret_name,
                }
            ),
            tracing_config=bindings.lambda_function.LambdaFunctionTracingConfig(mode="Active"),
            vpc_config=network.placement,
            tags=aws.tags,
            # The log group must exist (with its retention) before the first invocation writes to it.
            depends_on=[self.log_group, *attachments],
        )
        self.alias = bindings.lambda_alias.LambdaAlias(
            self,
            "aws_lambda_alias.live",
            name=LIVE_ALIAS,
            description="The version API Gateway invokes; moved by CodeDeploy rollouts (docs/rollout.md)",
            function_name=self.function.function_name,
            # Created on the version published with it; from then on CodeDeploy owns both fields.
            function_version=self.function.version,
            lifecycle=core.TerraformResourceLifecycle(ignore_changes=["function_version", "routing_config"]),
        )
