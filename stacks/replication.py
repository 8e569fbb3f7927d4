"""Audit records replicated to a second region, on demand (``TAP_AUDIT_REPLICA_REGION``): a
provider for that region, a replica bucket locked down like the audit bucket under a key of its
own, and the audit bucket's replication of ``audit/`` to it. Delete markers are not replicated
(docs/security.md says why). Unset, nothing here is built.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from function.contract import AUDIT_PREFIX
from stacks.cdk import bindings, core
from stacks.config import MAX_BUCKET_NAME, REPLICA_BUCKET_INFIX, StackConfig
from stacks.context import AwsContext
from stacks.policies import assume_role_policy, policy_document, statement
from stacks.secrets import Encryption
from stacks.storage import AuditBucket, lock_down

replication_configuration = bindings.s3_bucket_replication_configuration

#: The alias of the replica region's provider.
PROVIDER_ALIAS = "audit_replica"
#: What the role reads of each source object version, and what it writes to the replica.
SOURCE_OBJECT_ACTIONS = [
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
]
REPLICA_OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateTags"]


def _via_s3(region: str, bucket_arn: str) -> dict[str, Any]:
    """KMS used only by S3 in ``region`` for objects of one bucket under the audit prefix.

    With an S3 Bucket Key (both buckets have one) the encryption context is the bucket's ARN;
    objects written without one carry the object's ARN: both are allowed, nothing else.
    """
    return {
        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/{AUDIT_PREFIX}*"]},
    }


class AuditReplica(Construct):
    """The replica bucket in another region and the audit bucket's replication to it."""

    def __init__(  # noqa: PLR0913 (the stack's settings, context, key, bucket and provider settings)
        self,
        scope: Construct,
        config: StackConfig,
        aws: AwsContext,
        encryption: Encryption,
        source: AuditBucket,
        *,
        provider_settings: dict[str, Any],
    ) -> None:
        super().__init__(scope, "replication")
        region = config.audit_replica_region
        assert region, "built only when TAP_AUDIT_REPLICA_REGION names a region"
        provider = bindings.provider.AwsProvider(
            self,
            "aws_audit_replica",
            alias=PROVIDER_ALIAS,
            region=region,
            default_tags=[bindings.provider.AwsProviderDefaultTags(tags=aws.tags)],
            **provider_settings,
        )
        self.key = bindings.kms_key.KmsKey(
            self,
            "aws_kms_key.audit_replica",
            provider=provider,
            description=f"Encrypts the {config.environment} TAP stack's audit record replicas in {region}",
            enable_key_rotation=True,
            deletion_window_in_days=30 if config.deletion_protection else 7,
            policy=policy_document(statement("kms:*", "*", principal=aws.account_root, sid="AccountAdministers")),
        )
        bindings.kms_alias.KmsAlias(
            self,
            "aws_kms_alias.audit_replica",
            provider=provider,
            name=f"alias/{config.name_prefix}_audit_replica",
            target_key_id=self.key.key_id,
        )
        suffix = f"{REPLICA_BUCKET_INFIX}{region}"
        self.bucket = bindings.s3_bucket.S3Bucket(
            self,
            "aws_s3_bucket.audit_replica",
            provider=provider,
            bucket=f"{source.bucket.bucket}{suffix}",
            tags=aws.tags,
            force_destroy=not config.deletion_protection,
            lifecycle=core.TerraformResourceLifecycle(
                precondition=[
                    core.Precondition(
                        condition=f"${{length(var.lambda_log_bucket_name) <= {MAX_BUCKET_NAME - len(suffix)}}}",
                        error_message=f"lambda_log_bucket_name plus {suffix!r} must fit in {MAX_BUCKET_NAME} "
                        "characters (the replica bucket's name).",
                    )
                ]
            ),
        )
        replica_versioning = lock_down(self, "audit_replica", self.bucket, self.key.arn, provider, ordered=True)
        self.role = self._role(config, aws, encryption, source, region)
        replication_configuration.S3BucketReplicationConfigurationA(
            self,
            "aws_s3_bucket_replication_configuration.lambda_logs",
            bucket=source.bucket.id,
            role=self.role.arn,
            rule=[
                replication_configuration.S3BucketReplicationConfigurationRule(
                    id=f"audit-to-{region}",
                    status="Enabled",
                    priority=1,
                    filter=replication_configuration.S3BucketReplicationConfigurationRuleFilter(prefix=AUDIT_PREFIX),
                    delete_marker_replication=replication_configuration.S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Disabled"
                    ),
                    source_selection_criteria=replication_configuration.S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=replication_configuration.S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    ),
                    destination=replication_configuration.S3BucketReplicationConfigurationRuleDestination(
                        bucket=self.bucket.arn,
                        encryption_configuration=replication_configuration.S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=self.key.arn
                        ),
                    ),
                )
            ],
            # S3 refuses a replication configuration until both buckets are versioned.
            depends_on=[source.versioning, replica_versioning],
            lifecycle=core.TerraformResourceLifecycle(
                precondition=[
                    core.Precondition(
                        condition=f'${{var.aws_region != "{region}"}}',
                        error_message=f"aws_region must differ from the audit replica's region {region}.",
                    )
                ]
            ),
        )

    def _role(
        self, config: StackConfig, aws: AwsContext, encryption: Encryption, source: AuditBucket, region: str
    ) -> bindings.iam_role.IamRole:
        """The role S3 replicates with: the source prefix's versions in, the replica prefix out."""
        role = bindings.iam_role.IamRole(
            self,
            "aws_iam_role.audit_replication",
            name=f"{config.name_prefix}_audit_replication",
            assume_role_policy=assume_role_policy("s3.amazonaws.com"),
        )
        source_arn, replica_arn = source.bucket.arn, self.bucket.arn
        bindings.iam_role_policy.IamRolePolicy(
            self,
            "aws_iam_role_policy.audit_replication",
            role=role.id,
            name="replicate-audit-records",
            policy=policy_document(
                statement(
                    ["s3:GetReplicationConfiguration", "s3:ListBucket"], source_arn, sid="ReadReplicationSettings"
                ),
                statement(SOURCE_OBJECT_ACTIONS, f"{source_arn}/{AUDIT_PREFIX}*", sid="ReadSourceVersions"),
                statement(REPLICA_OBJECT_ACTIONS, f"{replica_arn}/{AUDIT_PREFIX}*", sid="WriteReplicas"),
                statement(
                    "kms:Decrypt",
                    encryption.key.arn,
                    condition=_via_s3(aws.region, source_arn),
                    sid="DecryptWithStackKey",
                ),
                statement(
                    ["kms:Encrypt", "kms:GenerateDataKey"],
                    self.key.arn,
                    condition=_via_s3(region, replica_arn),
                    sid="EncryptWithReplicaKey",
                ),
            ),
        )
        return role
