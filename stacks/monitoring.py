"""Alarms and where they go: API Gateway 4XX and 5XX, function errors and throttles, table
and index throttling, and the age of the oldest pending task (reported by claims, see
function/metrics.py), all notifying one encrypted SNS topic (optionally with an e-mail
subscription).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from function.contract import METRICS_NAMESPACE, METRICS_SERVICE_DIMENSION, OLDEST_PENDING_METRIC
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.dashboard import Watched
from stacks.secrets import Encryption


@dataclass(frozen=True)
class Alarm:
    """One metric alarm: fires when a metric's one-minute sum exceeds 1."""

    address: str
    name_suffix: str
    namespace: str
    metric_name: str
    description: str
    dimensions: dict[str, str]


class Alarms(Construct):
    """SNS topic for alarm notifications and every alarm of the stack."""

    def __init__(
        self,
        scope: Construct,
        config: StackConfig,
        aws: AwsContext,
        encryption: Encryption,
        *,
        watched: Watched,
    ) -> None:
        super().__init__(scope, "monitoring")
        api_name, function_name, table_name = watched.api_name, watched.function_name, watched.table_name
        self.topic = SnsTopic(
            self, "aws_sns_topic.alarms", name=f"{config.name_prefix}_alarms", kms_master_key_id=encryption.key.arn
        )
        if config.alarm_email:
            SnsTopicSubscription(
                self,
                "aws_sns_topic_subscription.alarm_email",
                topic_arn=self.topic.arn,
                protocol="email",
                endpoint=config.alarm_email,
            )
        alarms = [
            Alarm("apigw_4xx", "apigw_4xx_errors", "AWS/ApiGateway", "4XXError",
                  "Alarm for API Gateway 4XX errors", {"ApiName": api_name}),
            Alarm("apigw_5xx", "apigw_5xx_errors", "AWS/ApiGateway", "5XXError",
                  "Alarm for API Gateway 5XX errors", {"ApiName": api_name}),
            Alarm("lambda_errors", "lambda_errors", "AWS/Lambda", "Errors",
                  "The task function raised errors", {"FunctionName": function_name}),
            Alarm("lambda_throttles", "lambda_throttles", "AWS/Lambda", "Throttles",
                  "The task function was throttled", {"FunctionName": function_name}),
            Alarm("dynamodb_read_throttles", "dynamodb_read_throttles", "AWS/DynamoDB", "ReadThrottleEvents",
                  "Reads of the task table were throttled", {"TableName": table_name}),
            Alarm("dynamodb_write_throttles", "dynamodb_write_throttles", "AWS/DynamoDB", "WriteThrottleEvents",
                  "Writes to the task table were throttled", {"TableName": table_name}),
        ]  # fmt: skip
        self.by_address: dict[str, CloudwatchMetricAlarm] = {}
        for alarm in alarms:
            self.by_address[alarm.address] = CloudwatchMetricAlarm(
                self,
                f"aws_cloudwatch_metric_alarm.{alarm.address}",
                alarm_name=f"{config.name_prefix}_{alarm.name_suffix}",
                comparison_operator="GreaterThanThreshold",
                evaluation_periods=1,
                metric_name=alarm.metric_name,
                namespace=alarm.namespace,
                period=60,
                statistic="Sum",
                threshold=1,
                alarm_description=alarm.description,
                dimensions=alarm.dimensions,
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags=aws.tags,
            )
        # The alarms a rollout stops and rolls back on (stacks/rollout.py).
        self.api_5xx, self.lambda_errors = self.by_address["apigw_5xx"], self.by_address["lambda_errors"]
        self.by_address["oldest_pending_task_age"] = CloudwatchMetricAlarm(
            self,
            "aws_cloudwatch_metric_alarm.oldest_pending_task_age",
            alarm_name=f"{config.name_prefix}_oldest_pending_task_age",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            metric_name=OLDEST_PENDING_METRIC,
            namespace=METRICS_NAMESPACE,
            period=300,
            statistic="Maximum",
            threshold=config.pending_task_age_alarm_seconds,
            # The age is reported by claims; with no claim there is no data, which is not a breach.
            treat_missing_data="notBreaching",
            alarm_description=(
                f"A claim saw a pending task older than {config.pending_task_age_alarm_seconds} s: work is piling up"
            ),
            dimensions={METRICS_SERVICE_DIMENSION: function_name},
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=aws.tags,
        )
