"""Alarms and where they go: every alarm notifies the stack's encrypted SNS topic (plus
``TAP_ALARM_TOPIC_ARN``'s, if set), which each ``TAP_ALARM_EMAILS`` address is subscribed to.
Each alarm's description names its section of docs/runbooks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from constructs import Construct

from function.contract import METRICS_NAMESPACE, METRICS_SERVICE_DIMENSION, OLDEST_PENDING_METRIC
from stacks.cdk import bindings, core
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.dashboard import Watched
from stacks.secrets import Encryption

metric_alarm = bindings.cloudwatch_metric_alarm

#: Where each alarm's description points (a section anchor is appended).
RUNBOOK: Final = "docs/runbooks.md"
#: The latency alarm counts a minute only when it saw at least this many requests: with
#: fewer, p95 is the slowest request (1/(1-0.95) = 20), and one cold start would breach.
LATENCY_MIN_REQUESTS: Final = 20


def runbook(anchor: str) -> str:
    """The pointer an alarm description ends with."""
    return f"Runbook: {RUNBOOK}#{anchor}"


@dataclass(frozen=True)
class Alarm:
    """One metric alarm: fires when a metric's one-minute sum exceeds 1, or, with ``rate``,
    when its one-minute average (for API Gateway's error metrics: the share of requests) does."""

    address: str
    name_suffix: str
    namespace: str
    metric_name: str
    description: str
    anchor: str
    dimensions: dict[str, str]
    rate: float | None = None


class Alarms(Construct):
    """SNS topic for alarm notifications, its subscriptions and every alarm of the stack.

    ``by_address`` maps each alarm's address name to it; ``api_5xx``, ``lambda_errors`` and
    ``latency`` are the alarms a rollout watches.
    """

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
        self.topic = bindings.sns_topic.SnsTopic(
            self, "aws_sns_topic.alarms", name=f"{config.name_prefix}_alarms", kms_master_key_id=encryption.key.arn
        )
        self._subscribe(config.alarm_destinations.emails)
        external = config.alarm_destinations.topic_arn
        #: What every alarm notifies, on ALARM and on OK.
        self.actions: list[str] = [self.topic.arn, *([external] if external else [])]
        self._config, self._aws = config, aws
        self.by_address: dict[str, metric_alarm.CloudwatchMetricAlarm] = {}
        # 4XX answers grow with the load (404 no task, 409 contention, 429); a preset for
        # heavy load counts them as a share of requests (stacks/preset.py).
        rate_4xx = config.api_4xx_alarm_rate
        share = f" (more than {rate_4xx:.0%} of requests in a minute)" if rate_4xx else ""
        alarms = [
            Alarm("apigw_4xx", "apigw_4xx_errors", "AWS/ApiGateway", "4XXError",
                  f"Alarm for API Gateway 4XX errors{share}", "api-4xx", {"ApiName": api_name}, rate_4xx),
            Alarm("apigw_5xx", "apigw_5xx_errors", "AWS/ApiGateway", "5XXError",
                  "Alarm for API Gateway 5XX errors", "api-5xx", {"ApiName": api_name}),
            Alarm("lambda_errors", "lambda_errors", "AWS/Lambda", "Errors",
                  "The task function raised errors", "lambda-errors", {"FunctionName": function_name}),
            Alarm("lambda_throttles", "lambda_throttles", "AWS/Lambda", "Throttles",
                  "The task function was throttled", "lambda-throttles", {"FunctionName": function_name}),
            Alarm("dynamodb_read_throttles", "dynamodb_read_throttles", "AWS/DynamoDB", "ReadThrottleEvents",
                  "Reads of the task table were throttled", "dynamodb-read-throttles", {"TableName": table_name}),
            Alarm("dynamodb_write_throttles", "dynamodb_write_throttles", "AWS/DynamoDB", "WriteThrottleEvents",
                  "Writes to the task table were throttled", "dynamodb-write-throttles", {"TableName": table_name}),
        ]  # fmt: skip
        for alarm in alarms:
            self._alarm(
                alarm.address,
                alarm.name_suffix,
                f"{alarm.description}. {runbook(alarm.anchor)}",
                evaluation_periods=1,
                metric_name=alarm.metric_name,
                namespace=alarm.namespace,
                period=60,
                statistic="Average" if alarm.rate else "Sum",
                threshold=alarm.rate or 1,
                dimensions=alarm.dimensions,
            )
        seconds = config.pending_task_age_alarm_seconds
        self._alarm(
            "oldest_pending_task_age",
            "oldest_pending_task_age",
            f"A claim saw a pending task older than {seconds} s: work is piling up. {runbook('oldest-pending-task')}",
            evaluation_periods=1,
            metric_name=OLDEST_PENDING_METRIC,
            namespace=METRICS_NAMESPACE,
            period=300,
            statistic="Maximum",
            threshold=seconds,
            # The age is reported by claims; with no claim there is no data, which is not a breach.
            treat_missing_data="notBreaching",
            dimensions={METRICS_SERVICE_DIMENSION: function_name},
        )
        self.latency = self._latency(api_name)
        self.api_5xx = self.by_address["apigw_5xx"]
        self.lambda_errors = self.by_address["lambda_errors"]

    @property
    def all(self) -> list[metric_alarm.CloudwatchMetricAlarm]:
        """Every alarm of the stack, in the order they were made."""
        return list(self.by_address.values())

    def _subscribe(self, emails: tuple[str, ...]) -> None:
        """The first address at the address deployments already have; the others keyed by address."""
        if not emails:
            return
        first, *others = emails
        bindings.sns_topic_subscription.SnsTopicSubscription(
            self, "aws_sns_topic_subscription.alarm_email", topic_arn=self.topic.arn, protocol="email", endpoint=first
        )
        if others:
            # for_each keyed by the address: adding or removing one leaves the others alone.
            each = core.TerraformIterator.from_list(others)
            bindings.sns_topic_subscription.SnsTopicSubscription(
                self,
                "aws_sns_topic_subscription.alarm_email_others",
                for_each=each,
                topic_arn=self.topic.arn,
                protocol="email",
                endpoint=core.Token.as_string(each.value),
            )

    def _alarm(
        self, address: str, name_suffix: str, description: str, **settings: Any
    ) -> metric_alarm.CloudwatchMetricAlarm:
        """``aws_cloudwatch_metric_alarm.<address>``, notifying ``actions``, entered in ``by_address``."""
        alarm = metric_alarm.CloudwatchMetricAlarm(
            self,
            f"aws_cloudwatch_metric_alarm.{address}",
            alarm_name=f"{self._config.name_prefix}_{name_suffix}",
            comparison_operator="GreaterThanThreshold",
            alarm_description=description,
            alarm_actions=self.actions,
            ok_actions=self.actions,
            tags=self._aws.tags,
            **settings,
        )
        self.by_address[address] = alarm
        return alarm

    def _latency(self, api_name: str) -> metric_alarm.CloudwatchMetricAlarm:
        """API Gateway's p95 ``Latency`` above the threshold in 3 of 5 minutes that saw at
        least ``LATENCY_MIN_REQUESTS`` requests (quieter minutes count as fine)."""
        threshold = self._config.latency_alarm_p95_ms

        def latency(ident: str, stat: str) -> metric_alarm.CloudwatchMetricAlarmMetricQuery:
            metric = metric_alarm.CloudwatchMetricAlarmMetricQueryMetric(
                namespace="AWS/ApiGateway",
                metric_name="Latency",
                dimensions={"ApiName": api_name},
                period=60,
                stat=stat,
            )
            return metric_alarm.CloudwatchMetricAlarmMetricQuery(id=ident, metric=metric, return_data=False)

        guarded = metric_alarm.CloudwatchMetricAlarmMetricQuery(
            id="p95_busy",
            expression=f"IF(requests >= {LATENCY_MIN_REQUESTS}, p95, 0)",
            label=f"API p95 latency (ms), minutes with at least {LATENCY_MIN_REQUESTS} requests",
            return_data=True,
        )
        return self._alarm(
            "api_latency_p95",
            "api_latency_p95",
            f"API p95 latency above {threshold} ms in 3 of the last 5 busy minutes "
            f"(at least {LATENCY_MIN_REQUESTS} requests each). {runbook('api-latency-p95')}",
            evaluation_periods=5,
            datapoints_to_alarm=3,
            threshold=threshold,
            treat_missing_data="notBreaching",
            metric_query=[latency("p95", "p95"), latency("requests", "SampleCount"), guarded],
        )
