"""Scheduled rotation of the API key secret: its own small function (``rotation/``), role, log
group, Secrets Manager's permission to invoke it and the schedule (docs/security.md).
"""

from __future__ import annotations

from constructs import Construct

from stacks.cdk import bindings, core
from stacks.compute import attach_policies
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.network import Network
from stacks.package import LambdaPackage
from stacks.policies import assume_role_policy, policy_document, statement
from stacks.secrets import ApiKeys, Encryption

#: The rotation function's entry point (a module of the rotation package, at the zip's root).
ROTATION_HANDLER = "rotation.handler.lambda_handler"
#: What rotating the secret takes: reading it, writing the pending version and moving labels.
SECRET_ACTIONS = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
]
ROTATION_TIMEOUT_SECONDS = 30
ROTATION_MEMORY_MB = 128
RETIRE_AFTER_ENV = "KEY_RETIRE_AFTER_SECONDS"


class KeyRotation(Construct):
    """``aws_lambda_function.rotation`` and ``aws_secretsmanager_secret_rotation.api_keys``."""

    def __init__(  # noqa: PLR0913 (the stack's settings and context, the package and the three parts it uses)
        self,
        scope: Construct,
        config: StackConfig,
        aws: AwsContext,
        package: LambdaPackage,
        *,
        encryption: Encryption,
        network: Network,
        api_keys: ApiKeys,
    ) -> None:
        super().__init__(scope, "rotation")
        name = f"{config.name_prefix}_key_rotation"
        secret_arn = api_keys.secret.arn
        log_group = encryption.log_group(self, "aws_cloudwatch_log_group.rotation", f"/aws/lambda/{name}")
        role = bindings.iam_role.IamRole(
            self,
            "aws_iam_role.rotation",
            name=f"{name}_role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            tags=aws.tags,
        )
        policy = bindings.iam_policy.IamPolicy(
            self,
            "aws_iam_policy.rotation",
            name=f"{name}_policy",
            description="Rotate the API key secret: this secret and the stack's key only",
            policy=policy_document(
                statement(SECRET_ACTIONS, secret_arn),
                statement(["kms:Decrypt", "kms:GenerateDataKey"], encryption.key.arn),
                statement(["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group.arn}:*"),
            ),
        )
        attachments = attach_policies(self, aws, "rotation", role, policy, network)
        asset = core.TerraformAsset(self, "rotation_package", path=str(package.path), type=core.AssetType.FILE)
        self.function = bindings.lambda_function.LambdaFunction(
            self,
            "aws_lambda_function.rotation",
            function_name=name,
            description="Rotates the API key secret (the four Secrets Manager rotation steps)",
            role=role.arn,
            handler=ROTATION_HANDLER,
            runtime=config.lambda_runtime,
            filename=asset.path,
            source_code_hash=package.sha256_b64,
            memory_size=ROTATION_MEMORY_MB,
            timeout=ROTATION_TIMEOUT_SECONDS,
            kms_key_arn=encryption.key.arn,
            environment=bindings.lambda_function.LambdaFunctionEnvironment(
                variables={RETIRE_AFTER_ENV: str(config.key_rotation.retire_after_seconds)}
            ),
            tracing_config=bindings.lambda_function.LambdaFunctionTracingConfig(mode="Active"),
            vpc_config=network.placement,
            tags=aws.tags,
            depends_on=[log_group, *attachments],
        )
        permission = bindings.lambda_permission.LambdaPermission(
            self,
            "aws_lambda_permission.rotation_secretsmanager",
            statement_id="AllowSecretsManagerRotation",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal="secretsmanager.amazonaws.com",
            source_arn=secret_arn,
        )
        self.schedule = bindings.secretsmanager_secret_rotation.SecretsmanagerSecretRotation(
            self,
            "aws_secretsmanager_secret_rotation.api_keys",
            secret_id=secret_arn,
            rotation_lambda_arn=self.function.arn,
            rotation_rules=bindings.secretsmanager_secret_rotation.SecretsmanagerSecretRotationRotationRules(
                automatically_after_days=config.key_rotation.days
            ),
            # Turning rotation on must not start retiring the keys callers hold on deploy day:
            # the first rotation comes after the interval (or with make rotate-keys).
            rotate_immediately=False,
            depends_on=[permission],
        )
