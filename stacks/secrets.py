"""The customer-managed KMS key and the API key secret.

One key per environment encrypts everything the stack stores; CloudWatch Logs and alarms may
use it for their own resources only.
"""

from __future__ import annotations

from constructs import Construct

from stacks.cdk import bindings
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.policies import policy_document, statement


class Encryption(Construct):
    """A rotating KMS key with an alias named after the environment."""

    def __init__(self, scope: Construct, config: StackConfig, aws: AwsContext) -> None:
        super().__init__(scope, "encryption")
        self.key = bindings.kms_key.KmsKey(
            self,
            "aws_kms_key.main",
            description=f"Encrypts the {config.environment} TAP stack's data, logs, alarms and secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30 if config.deletion_protection else 7,
            policy=policy_document(
                statement("kms:*", "*", principal=aws.account_root, sid="AccountAdministers"),
                statement(
                    ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    "*",
                    principal={"Service": f"logs.{aws.region}.amazonaws.com"},
                    condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": aws.arn("logs", "log-group:*")}},
                    sid="CloudWatchLogsOwnGroups",
                ),
                statement(
                    ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "*",
                    principal={"Service": "cloudwatch.amazonaws.com"},
                    condition={"StringEquals": {"aws:SourceAccount": aws.account_id}},
                    sid="CloudWatchAlarmsPublish",
                ),
            ),
        )
        bindings.kms_alias.KmsAlias(
            self, "aws_kms_alias.main", name=f"alias/{config.name_prefix}", target_key_id=self.key.key_id
        )
        self._retention_days = config.log_retention_days

    def log_group(self, scope: Construct, address: str, name: str) -> bindings.cloudwatch_log_group.CloudwatchLogGroup:
        """A log group encrypted with this key, kept for the environment's retention period."""
        return bindings.cloudwatch_log_group.CloudwatchLogGroup(
            scope, address, name=name, retention_in_days=self._retention_days, kms_key_id=self.key.arn
        )


class ApiKeys(Construct):
    """The Secrets Manager secret holding ``{"api_keys": [...]}`` for the function."""

    def __init__(
        self, scope: Construct, config: StackConfig, aws: AwsContext, encryption: Encryption, name: str
    ) -> None:
        super().__init__(scope, "secrets")
        self.secret = bindings.secretsmanager_secret.SecretsmanagerSecret(
            self,
            "aws_secretsmanager_secret.api_keys",
            name=name,
            kms_key_id=encryption.key.arn,
            recovery_window_in_days=config.secret_recovery_window_days,
            tags=aws.tags,
        )
