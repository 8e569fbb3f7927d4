"""The checks every environment's settings pass before CDKTF loads: each refuses, in one line
naming the setting, a value AWS would refuse (stacks/config.py calls ``validate``)."""

from __future__ import annotations

import ipaddress
import re

from stacks.alerting import check_destinations
from stacks.config import (
    _ORIGIN_RE,
    LATENCY_ALARM_MS_RANGE,
    LOG_RETENTION_DAYS,
    MAX_BUCKET_NAME,
    PENDING_AGE_ALARM_RANGE,
    REGION_PATTERN,
    ROLLOUT_CONFIGS,
    SECRET_PATTERN,
    SUPPORTED_RUNTIMES,
    TABLE_PATTERN,
    ConfigError,
    StackConfig,
    is_bucket_name,
    replica_bucket_name,
)
from stacks.key_settings import check_key_rotation

#: Inclusive ranges AWS accepts (secret recovery: 0 is also allowed, meaning "delete at once").
SECRET_RECOVERY_DAYS = (7, 30)
LAMBDA_MEMORY_MB = (128, 10240)
#: API Gateway waits at most 29 s for its integration.
LAMBDA_TIMEOUT_SECONDS = (1, 29)
VPC_PREFIX_LENGTHS = (16, 24)


def _check_range(config: StackConfig, field: str, bounds: tuple[int, int], why: str = "", setting: str = "") -> None:
    """Refuse a ``config.<field>`` outside the inclusive ``bounds``, naming ``setting`` (default: the field)."""
    low, high = bounds
    value = getattr(config, field)
    if not low <= value <= high:
        raise ConfigError(f"{config.environment}: {setting or field}={value} must be {low}-{high}{why}")


def _check_names(config: StackConfig) -> None:
    env = config.environment
    if not re.match(REGION_PATTERN, config.aws_region):
        raise ConfigError(f"{env}: aws_region={config.aws_region!r} is not an AWS region name")
    if not is_bucket_name(config.lambda_log_bucket_name):
        raise ConfigError(
            f"{env}: lambda_log_bucket_name={config.lambda_log_bucket_name!r} is not a valid S3 bucket name"
        )
    if not re.match(TABLE_PATTERN, config.dynamodb_table_name):
        raise ConfigError(
            f"{env}: dynamodb_table_name={config.dynamodb_table_name!r} is not a valid DynamoDB table name"
        )
    if not re.match(SECRET_PATTERN, config.api_key_secret_name):
        raise ConfigError(f"{env}: api_key_secret_name={config.api_key_secret_name!r} is not a valid secret name")
    if config.cors_allow_origin != "*" and not _ORIGIN_RE.match(config.cors_allow_origin):
        raise ConfigError(
            f"{env}: TAP_CORS_ORIGIN={config.cors_allow_origin!r} is not an origin: "
            "use * or http(s)://host[:port] without a path"
        )
    check_destinations(env, config.aws_region, config.alarm_destinations)
    _check_replica_region(config)


def _check_replica_region(config: StackConfig) -> None:
    """Refuse a replica region that is not a region, is the stack's own, or makes too long a name."""
    env, region = config.environment, config.audit_replica_region
    if region is None:
        return
    if not re.match(REGION_PATTERN, region):
        raise ConfigError(f"{env}: TAP_AUDIT_REPLICA_REGION={region!r} is not an AWS region name (e.g. us-east-1)")
    if region == config.aws_region:
        raise ConfigError(
            f"{env}: TAP_AUDIT_REPLICA_REGION={region!r} is the stack's own region: a replica must be in another region"
        )
    name = replica_bucket_name(config.lambda_log_bucket_name, region)
    if len(name) > MAX_BUCKET_NAME:
        raise ConfigError(
            f"{env}: TAP_AUDIT_REPLICA_REGION={region!r} makes the replica bucket name {name!r} longer than "
            f"{MAX_BUCKET_NAME} characters: shorten lambda_log_bucket_name"
        )


def _check_function(config: StackConfig) -> None:
    env = config.environment
    if config.lambda_runtime not in SUPPORTED_RUNTIMES:
        raise ConfigError(
            f"{env}: lambda_runtime={config.lambda_runtime!r} is not supported; "
            f"use one of {', '.join(SUPPORTED_RUNTIMES)}"
        )
    _check_range(config, "lambda_memory_mb", LAMBDA_MEMORY_MB)
    _check_range(
        config, "lambda_timeout_seconds", LAMBDA_TIMEOUT_SECONDS, f" (API Gateway waits {LAMBDA_TIMEOUT_SECONDS[1]} s)"
    )
    if config.reserved_concurrency is not None and config.reserved_concurrency < 1:
        raise ConfigError(f"{env}: reserved_concurrency={config.reserved_concurrency} must be at least 1 or unset")
    if config.rollout not in ROLLOUT_CONFIGS:
        raise ConfigError(f"TAP_ROLLOUT={config.rollout!r} is not a rollout; use one of {', '.join(ROLLOUT_CONFIGS)}")
    check_key_rotation(env, config.key_rotation)


def _check_operations(config: StackConfig) -> None:
    env = config.environment
    if config.log_retention_days not in LOG_RETENTION_DAYS:
        raise ConfigError(
            f"{env}: log_retention_days={config.log_retention_days} is not a period CloudWatch Logs accepts "
            f"({', '.join(map(str, LOG_RETENTION_DAYS))})"
        )
    window = config.secret_recovery_window_days
    low, high = SECRET_RECOVERY_DAYS
    if window != 0 and not low <= window <= high:
        raise ConfigError(f"{env}: secret_recovery_window_days={window} must be 0 or {low}-{high}")
    _check_range(config, "pending_task_age_alarm_seconds", PENDING_AGE_ALARM_RANGE, " (one minute to two weeks)")
    why = " (API Gateway gives up after 29 s)"
    _check_range(config, "latency_alarm_p95_ms", LATENCY_ALARM_MS_RANGE, why, "TAP_LATENCY_ALARM_P95_MS")


def _check_network(config: StackConfig) -> None:
    env = config.environment
    if config.enforce_ip_allowlist and not config.lambda_allowed_ips:
        raise ConfigError(
            f"{env}: lambda_allowed_ips is empty while enforce_ip_allowlist is on: nobody could call the API"
        )
    for ip in config.lambda_allowed_ips:
        try:
            ipaddress.ip_network(ip, strict=False)
        except ValueError:
            raise ConfigError(f"{env}: lambda_allowed_ips entry {ip!r} is not an IP address or CIDR block") from None
    try:
        network = ipaddress.ip_network(config.vpc_cidr)
    except ValueError:
        raise ConfigError(f"{env}: vpc_cidr={config.vpc_cidr!r} is not a CIDR block") from None
    low, high = VPC_PREFIX_LENGTHS
    if network.version != 4 or not low <= network.prefixlen <= high:  # noqa: PLR2004 (IPv4)
        raise ConfigError(f"{env}: vpc_cidr={config.vpc_cidr!r} must be an IPv4 block from /{low} to /{high}")


def validate(config: StackConfig) -> StackConfig:
    """Reject settings AWS would refuse, naming the setting; return the config unchanged."""
    for check in (_check_names, _check_function, _check_operations, _check_network):
        check(config)
    return config
