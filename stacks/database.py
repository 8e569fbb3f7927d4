"""The task table and its autoscaling: the key, two sparse global secondary indexes the
handler queries (listing by status, claiming the next task), autoscaling of the table and
of each index (5 to 100 units at a 70 % target), point-in-time recovery, deletion
protection, and a TTL that expires idempotency-token items.

Capacity belongs to autoscaling, so an apply must never lower it: Terraform ignores the
table's own capacity and -- unless ``table_index_changes`` is on for this deploy -- the
index blocks, because it cannot ignore the capacity inside one index block without
ignoring the block (the approach of terraform-aws-modules/dynamodb-table's
``ignore_changes_global_secondary_index``). Indexes are created with the table either way.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from function.contract import HASH_KEY, INDEXES, KEY_ATTRIBUTE_TYPE, TTL_ATTRIBUTE, Index, key_attributes
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.secrets import Encryption

MIN_CAPACITY = 5
MAX_CAPACITY = 100
TARGET_UTILIZATION = 70.0
#: What Terraform leaves to autoscaling; ``INDEX_BLOCKS`` too unless index changes are on.
CAPACITY = ["read_capacity", "write_capacity"]
INDEX_BLOCKS = ["global_secondary_index", "attribute"]


def address_stem(index: Index) -> str:
    """``status-created-index`` → ``status_created``, for the index's autoscaling addresses."""
    return index.name.removesuffix("-index").replace("-", "_")


class TaskTable(Construct):
    """DynamoDB table ``aws_dynamodb_table.data`` with autoscaled table and index capacity."""

    def __init__(
        self, scope: Construct, config: StackConfig, aws: AwsContext, encryption: Encryption, table_name: str
    ) -> None:
        super().__init__(scope, "database")
        self.table = DynamodbTable(
            self,
            "aws_dynamodb_table.data",
            name=table_name,
            billing_mode="PROVISIONED",
            hash_key=HASH_KEY,
            attribute=[DynamodbTableAttribute(name=name, type=KEY_ATTRIBUTE_TYPE) for name in key_attributes()],
            read_capacity=MIN_CAPACITY,
            write_capacity=MIN_CAPACITY,
            global_secondary_index=[
                DynamodbTableGlobalSecondaryIndex(
                    name=index.name,
                    hash_key=index.hash_key,
                    range_key=index.range_key,
                    projection_type=index.projection_type,
                    non_key_attributes=list(index.non_key_attributes) or None,
                    read_capacity=MIN_CAPACITY,
                    write_capacity=MIN_CAPACITY,
                )
                for index in INDEXES
            ],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=encryption.key.arn),
            deletion_protection_enabled=config.deletion_protection,
            ttl=DynamodbTableTtl(attribute_name=TTL_ATTRIBUTE, enabled=True),
            tags=aws.tags,
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=CAPACITY if config.table_index_changes else CAPACITY + INDEX_BLOCKS
            ),
        )
        table_resource = f"table/{self.table.name}"
        # The original's four resources keep their addresses and arguments.
        for unit, label in (("Read", "read"), ("Write", "write")):
            self._autoscale(f"dynamodb_{label}", f"DynamoDB{unit}AutoScalingPolicy", table_resource, "table", unit)
            for index in INDEXES:
                self._autoscale(
                    f"gsi_{address_stem(index)}_{label}",
                    f"DynamoDB{unit}AutoScalingPolicy-{index.name}",
                    f"{table_resource}/index/{index.name}",
                    "index",
                    unit,
                )

    def _autoscale(self, address: str, policy_name: str, resource_id: str, dimension_of: str, unit: str) -> None:
        """A scalable target (``aws_appautoscaling_target.<address>``) between the capacity
        limits, and its target-tracking policy (``aws_appautoscaling_policy.<address>_policy``)."""
        target = AppautoscalingTarget(
            self,
            f"aws_appautoscaling_target.{address}",
            max_capacity=MAX_CAPACITY,
            min_capacity=MIN_CAPACITY,
            resource_id=resource_id,
            scalable_dimension=f"dynamodb:{dimension_of}:{unit}CapacityUnits",
            service_namespace="dynamodb",
        )
        AppautoscalingPolicy(
            self,
            f"aws_appautoscaling_policy.{address}_policy",
            name=policy_name,
            policy_type="TargetTrackingScaling",
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            service_namespace=target.service_namespace,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=f"DynamoDB{unit}CapacityUtilization"
                ),
                target_value=TARGET_UTILIZATION,
            ),
        )
