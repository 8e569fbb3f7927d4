"""The audit bucket, one JSON object per API request: versioned, encrypted with the stack's
key, public access blocked, TLS only, old records moved to cheaper storage classes.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from function.contract import AUDIT_PREFIX
from stacks.cdk import bindings
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.policies import policy_document, statement
from stacks.secrets import Encryption

encryption_configuration = bindings.s3_bucket_server_side_encryption_configuration


class AuditBucket(Construct):
    """S3 bucket for the function's audit records, locked down and lifecycle-managed."""

    def __init__(
        self, scope: Construct, config: StackConfig, aws: AwsContext, encryption: Encryption, bucket_name: str
    ) -> None:
        super().__init__(scope, "storage")
        self.bucket = bindings.s3_bucket.S3Bucket(
            self,
            "aws_s3_bucket.lambda_logs",
            bucket=bucket_name,
            tags=aws.tags,
            # Disposable environments must be destroyable with their audit records in them.
            force_destroy=not config.deletion_protection,
        )
        self.versioning = lock_down(self, "lambda_logs", self.bucket, encryption.key.arn)


def lock_down(  # noqa: PLR0913 (the bucket, its name, key and provider, and the one difference)
    scope: Construct,
    name: str,
    bucket: bindings.s3_bucket.S3Bucket,
    key_arn: str,
    provider: Any = None,
    *,
    ordered: bool = False,
) -> bindings.s3_bucket_versioning.S3BucketVersioningA:
    """What makes ``aws_s3_bucket.<name>`` an audit bucket: versioning, encryption with ``key_arn``,
    object events to EventBridge, no public access, TLS only, the lifecycle (after versioning
    where ``ordered``); the same addresses with ``<name>`` for the audit bucket and its replica."""
    bucket_id = bucket.id
    versioning = bindings.s3_bucket_versioning.S3BucketVersioningA(
        scope,
        f"aws_s3_bucket_versioning.{name}",
        provider=provider,
        bucket=bucket_id,
        versioning_configuration=bindings.s3_bucket_versioning.S3BucketVersioningVersioningConfiguration(
            status="Enabled"
        ),
    )
    encryption_configuration.S3BucketServerSideEncryptionConfigurationA(
        scope,
        f"aws_s3_bucket_server_side_encryption_configuration.{name}",
        provider=provider,
        bucket=bucket_id,
        rule=[
            encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms", kms_master_key_id=key_arn
                ),
                bucket_key_enabled=True,
            )
        ],
    )
    # Object events go to the account's default EventBridge bus: free without rules, and
    # a security team can alert on audit records being overwritten or deleted.
    bindings.s3_bucket_notification.S3BucketNotification(
        scope, f"aws_s3_bucket_notification.{name}", provider=provider, bucket=bucket_id, eventbridge=True
    )
    block_public_access(scope, f"aws_s3_bucket_public_access_block.{name}", bucket_id, provider)
    bindings.s3_bucket_policy.S3BucketPolicy(
        scope, f"aws_s3_bucket_policy.{name}", provider=provider, bucket=bucket_id, policy=tls_only_policy(bucket.arn)
    )
    bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfiguration(
        scope,
        f"aws_s3_bucket_lifecycle_configuration.{name}",
        provider=provider,
        bucket=bucket_id,
        rule=lifecycle_rules(),
        depends_on=[versioning] if ordered else None,
    )
    return versioning


def block_public_access(scope: Construct, address: str, bucket_id: str, provider: Any = None) -> None:
    """Every public-access setting of a bucket blocked (the audit bucket and its replica)."""
    bindings.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
        scope,
        address,
        provider=provider,
        bucket=bucket_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )


def tls_only_policy(bucket_arn: str) -> str:
    """A bucket policy refusing every request not made over TLS."""
    return policy_document(
        statement(
            "s3:*",
            [bucket_arn, f"{bucket_arn}/*"],
            effect="Deny",
            principal="*",
            condition={"Bool": {"aws:SecureTransport": "false"}},
            sid="DenyPlainHttp",
        )
    )


def lifecycle_rules() -> list[bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRule]:
    """Audit records to cheaper storage classes; superseded versions and stale uploads expire.

    The audit bucket and its replica (stacks/replication.py) share these rules.
    """
    return [
        bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRule(
            id="audit-to-cheaper-storage",
            status="Enabled",
            filter=[
                bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRuleFilter(prefix=AUDIT_PREFIX)
            ],
            transition=[
                bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRuleTransition(
                    days=30, storage_class="STANDARD_IA"
                ),
                bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRuleTransition(
                    days=180, storage_class="GLACIER"
                ),
            ],
        ),
        bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRule(
            id="expire-old-versions",
            status="Enabled",
            filter=[bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            noncurrent_version_expiration=[
                bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=30
                )
            ],
            abort_incomplete_multipart_upload=[
                bindings.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=7
                )
            ],
        ),
    ]
