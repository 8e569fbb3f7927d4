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
lifecycle_configuration = bindings.s3_bucket_lifecycle_configuration


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
    bindings.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
        scope,
        f"aws_s3_bucket_public_access_block.{name}",
        provider=provider,
        bucket=bucket_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    tls_only = statement(
        "s3:*",
        [bucket.arn, f"{bucket.arn}/*"],
        effect="Deny",
        principal="*",
        condition={"Bool": {"aws:SecureTransport": "false"}},
        sid="DenyPlainHttp",
    )
    bindings.s3_bucket_policy.S3BucketPolicy(
        scope, f"aws_s3_bucket_policy.{name}", provider=provider, bucket=bucket_id, policy=policy_document(tls_only)
    )
    # Audit records move to cheaper storage classes; superseded versions and stale uploads expire.
    lifecycle_configuration.S3BucketLifecycleConfiguration(
        scope,
        f"aws_s3_bucket_lifecycle_configuration.{name}",
        provider=provider,
        bucket=bucket_id,
        rule=[
            lifecycle_configuration.S3BucketLifecycleConfigurationRule(
                id="audit-to-cheaper-storage",
                status="Enabled",
                filter=[lifecycle_configuration.S3BucketLifecycleConfigurationRuleFilter(prefix=AUDIT_PREFIX)],
                transition=[
                    lifecycle_configuration.S3BucketLifecycleConfigurationRuleTransition(
                        days=30, storage_class="STANDARD_IA"
                    ),
                    lifecycle_configuration.S3BucketLifecycleConfigurationRuleTransition(
                        days=180, storage_class="GLACIER"
                    ),
                ],
            ),
            lifecycle_configuration.S3BucketLifecycleConfigurationRule(
                id="expire-old-versions",
                status="Enabled",
                filter=[lifecycle_configuration.S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[
                    lifecycle_configuration.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=30
                    )
                ],
                abort_incomplete_multipart_upload=[
                    lifecycle_configuration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=7
                    )
                ],
            ),
        ],
        depends_on=[versioning] if ordered else None,
    )
    return versioning
