"""The task table, its sparse global secondary indexes (function/contract.py), point-in-time
recovery, deletion protection, TTL, and autoscaling of the table and each index; or, with
``table_on_demand`` (the ``scale`` preset), on-demand capacity.

Capacity belongs to autoscaling, so an apply must never lower it. Terraform cannot ignore the
capacity inside one index block without ignoring the block, so the index blocks are ignored
too unless ``table_index_changes`` is on for the deploy.
"""

from __future__ import annotations

from constructs import Construct

from function.contract import HASH_KEY, INDEXES, KEY_ATTRIBUTE_TYPE, TTL_ATTRIBUTE, key_attributes
from stacks.cdk import bindings, core
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.secrets import Encryption

scaling_policy = bindings.appautoscaling_policy

MIN_CAPACITY = 5
MAX_CAPACITY = 100
TARGET_UTILIZATION = 70.0
#: What Terraform leaves to autoscaling; ``INDEX_BLOCKS`` too unless index changes are on.
CAPACITY = ["read_capacity", "write_capacity"]
INDEX_BLOCKS = ["global_secondary_index", "attribute"]


class TaskTable(Construct):
    """DynamoDB table ``aws_dynamodb_table.data`` with autoscaled (or on-demand) table and index capacity."""

    def __init__(
        self, scope: Construct, config: StackConfig, aws: AwsContext, encryption: Encryption, table_name: str
    ) -> None:
        super().__init__(scope, "database")
        # On demand, DynamoDB takes no capacity figures and Application Auto Scaling refuses the table.
        units = None if config.table_on_demand else MIN_CAPACITY
        self.table = bindings.dynamodb_table.DynamodbTable(
            self,
            "aws_dynamodb_table.data",
            name=table_name,
            billing_mode="PAY_PER_REQUEST" if config.table_on_demand else "PROVISIONED",
            hash_key=HASH_KEY,
            attribute=[
                bindings.dynamodb_table.DynamodbTableAttribute(name=name, type=KEY_ATTRIBUTE_TYPE)
                for name in key_attributes()
            ],
            read_capacity=units,
            write_capacity=units,
            global_secondary_index=[
                bindings.dynamodb_table.DynamodbTableGlobalSecondaryIndex(
                    name=index.name,
                    hash_key=index.hash_key,
                    range_key=index.range_key,
                    projection_type=index.projection_type,
                    non_key_attributes=list(index.non_key_attributes) or None,
                    read_capacity=units,
                    write_capacity=units,
                )
                for index in INDEXES
            ],
            point_in_time_recovery=bindings.dynamodb_table.DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=bindings.dynamodb_table.DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=encryption.key.arn
            ),
            deletion_protection_enabled=config.deletion_protection,
            ttl=bindings.dynamodb_table.DynamodbTableTtl(attribute_name=TTL_ATTRIBUTE, enabled=True),
            tags=aws.tags,
            lifecycle=core.TerraformResourceLifecycle(
                ignore_changes=CAPACITY if config.table_index_changes else CAPACITY + INDEX_BLOCKS
            ),
        )
        if not config.table_on_demand:
            self._autoscale(f"table/{self.table.name}")

    def _autoscale(self, table: str) -> None:
        """A scalable target and a target-tracking policy per capacity dimension of the table and each index."""
        # The table's targets and policies keep the original's addresses and names; each index's follow them.
        scaled = [("dynamodb", "", table, "table")]
        for index in INDEXES:  # status-created-index: gsi_status_created_read, …
            stem = index.name.removesuffix("-index").replace("-", "_")
            scaled.append((f"gsi_{stem}", f"-{index.name}", f"{table}/index/{index.name}", "index"))
        for unit in ("Read", "Write"):
            for stem, policy_suffix, resource_id, dimension in scaled:
                address = f"{stem}_{unit.lower()}"
                target = bindings.appautoscaling_target.AppautoscalingTarget(
                    self,
                    f"aws_appautoscaling_target.{address}",
                    max_capacity=MAX_CAPACITY,
                    min_capacity=MIN_CAPACITY,
                    resource_id=resource_id,
                    scalable_dimension=f"dynamodb:{dimension}:{unit}CapacityUnits",
                    service_namespace="dynamodb",
                )
                scaling_policy.AppautoscalingPolicy(
                    self,
                    f"aws_appautoscaling_policy.{address}_policy",
                    name=f"DynamoDB{unit}AutoScalingPolicy{policy_suffix}",
                    policy_type="TargetTrackingScaling",
                    resource_id=target.resource_id,
                    scalable_dimension=target.scalable_dimension,
                    service_namespace=target.service_namespace,
                    target_tracking_scaling_policy_configuration=scaling_policy.AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                        predefined_metric_specification=scaling_policy.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                            predefined_metric_type=f"DynamoDB{unit}CapacityUtilization"
                        ),
                        target_value=TARGET_UTILIZATION,
                    ),
                )
