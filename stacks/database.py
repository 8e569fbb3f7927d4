"""The task table and its autoscaling.

The table keeps the original's key, billing mode and autoscaling (5–100 units at a 70 %
target). It gains two sparse global secondary indexes the task API needs so that it
never scans (listing by status, claiming the next task), each with its own autoscaling,
plus the point-in-time recovery and deletion protection the design promised. The
table's own capacity is left to autoscaling: Terraform ignores drift in it, so an apply
no longer resets a scaled-up table to 5 units.
"""

from __future__ import annotations

from dataclasses import dataclass

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
)
from constructs import Construct

from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.secrets import Encryption

MIN_CAPACITY = 5
MAX_CAPACITY = 100
TARGET_UTILIZATION = 70.0


@dataclass(frozen=True)
class Index:
    """A global secondary index of the task table (names are the handler's contract)."""

    name: str
    hash_key: str
    range_key: str
    #: ALL copies whole tasks into the index; INCLUDE copies only the keys and these.
    projection_type: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()

    @property
    def address_stem(self) -> str:
        """``status-created-index`` → ``status_created`` for resource names."""
        return self.name.removesuffix("-index").replace("-", "_")


#: Listing a status newest first (whole tasks), and claiming: pending by priority then age,
#: leases by expiry. Claiming needs only the id and version of its candidates, so the queue
#: index holds just those: its writes and reads stay small whatever the size of a task.
INDEXES = (
    Index("status-created-index", "status", "created_at"),
    Index("status-queue-index", "status", "queue_key", projection_type="INCLUDE", non_key_attributes=("version",)),
)


class TaskTable(Construct):
    """DynamoDB table ``aws_dynamodb_table.data`` with autoscaled table and index capacity."""

    def __init__(
        self, scope: Construct, config: StackConfig, aws: AwsContext, encryption: Encryption, table_name: str
    ) -> None:
        super().__init__(scope, "database")
        key_attributes = ["id", *dict.fromkeys(a for i in INDEXES for a in (i.hash_key, i.range_key))]
        self.table = DynamodbTable(
            self,
            "aws_dynamodb_table.data",
            name=table_name,
            billing_mode="PROVISIONED",
            hash_key="id",
            attribute=[DynamodbTableAttribute(name=name, type="S") for name in key_attributes],
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
            tags=aws.tags,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["read_capacity", "write_capacity"]),
        )
        table_resource = f"table/{self.table.name}"
        # The original's four resources keep their addresses and arguments.
        for unit, label in (("Read", "read"), ("Write", "write")):
            self._autoscale(
                target_id=f"dynamodb_{label}",
                policy_id=f"dynamodb_{label}_policy",
                policy_name=f"DynamoDB{unit}AutoScalingPolicy",
                resource_id=table_resource,
                dimension=f"dynamodb:table:{unit}CapacityUnits",
                metric=f"DynamoDB{unit}CapacityUtilization",
            )
            for index in INDEXES:
                self._autoscale(
                    target_id=f"gsi_{index.address_stem}_{label}",
                    policy_id=f"gsi_{index.address_stem}_{label}_policy",
                    policy_name=f"DynamoDB{unit}AutoScalingPolicy-{index.name}",
                    resource_id=f"{table_resource}/index/{index.name}",
                    dimension=f"dynamodb:index:{unit}CapacityUnits",
                    metric=f"DynamoDB{unit}CapacityUtilization",
                )

    def _autoscale(
        self, target_id: str, policy_id: str, policy_name: str, resource_id: str, dimension: str, metric: str
    ) -> None:
        """A scalable target between the capacity limits and its target-tracking policy."""
        target = AppautoscalingTarget(
            self,
            f"aws_appautoscaling_target.{target_id}",
            max_capacity=MAX_CAPACITY,
            min_capacity=MIN_CAPACITY,
            resource_id=resource_id,
            scalable_dimension=dimension,
            service_namespace="dynamodb",
        )
        AppautoscalingPolicy(
            self,
            f"aws_appautoscaling_policy.{policy_id}",
            name=policy_name,
            policy_type="TargetTrackingScaling",
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            service_namespace=target.service_namespace,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=metric
                ),
                target_value=TARGET_UTILIZATION,
            ),
        )
