"""Typed, validated settings for each TAP environment: built-in defaults overridden by ``TAP_*``
environment variables, every value checked before the (slow) CDKTF libraries load. The stack
code reads one ``StackConfig`` and never the process environment. Imports nothing from cdktf.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from stacks.alerting import (
    AlarmDestinations,
    destination_warning,
    lacks_destination,
    missing_destination_error,
    read_destinations,
)
from stacks.errors import ConfigError as ConfigError  # noqa: PLC0414 (explicit re-export for mypy --strict)
from stacks.errors import read_number
from stacks.key_settings import KeyRotation, read_key_rotation
from stacks.preset import DEFAULT_PRESET, PRESETS, read_sizing
from workspace.loopback import emulator_endpoint

BackendKind = Literal["s3", "local"]

#: Lambda runtimes the handler is tested on and that AWS still accepts for new functions.
SUPPORTED_RUNTIMES = ("python3.11", "python3.12", "python3.13")

#: The only retention periods CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

ENVIRONMENTS = ("prod", "dev", "local")
#: Allowed thresholds of the oldest-pending-task alarm, seconds: one minute to two weeks.
PENDING_AGE_ALARM_RANGE = (60, 14 * 86400)
#: Allowed thresholds of the API's p95 latency alarm, ms: above API Gateway's own overhead,
#: below its 29 s integration timeout. The default is the design's aim: p95 under 200 ms.
LATENCY_ALARM_MS_RANGE = (50, 29_000)
#: The original HCL's ``Access-Control-Allow-Origin``: a placeholder, kept as the default for parity.
DEFAULT_CORS_ORIGIN = "https://google.com"
DEFAULT_REGION = "us-west-2"
LOCAL_STATE_BUCKET = "tap-stack-local-tfstate"
#: The audit replica bucket is ``<audit bucket>-replica-<region>`` (``TAP_AUDIT_REPLICA_REGION``,
#: stacks/replication.py); S3 allows 63 characters.
REPLICA_BUCKET_INFIX = "-replica-"
MAX_BUCKET_NAME = 63

#: Naming rules AWS enforces, checked here at synth time and by the Terraform variables'
#: validation blocks at plan time (stacks/tap_stack.py), from these same patterns; they are
#: written in the syntax Python's re and Terraform's RE2 share.
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
IP_LIKE_PATTERN = r"^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$"
TABLE_PATTERN = r"^[A-Za-z0-9_.-]{3,255}$"
SECRET_PATTERN = r"^[A-Za-z0-9/_+=.@-]{1,512}$"
_STATE_KEY_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,1024}$")
#: ``*`` or an origin: scheme, host (name, IPv4 or [IPv6]), optional port; nothing after it.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ORIGIN_RE = re.compile(rf"^https?://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?$")
_TRUE = {"1", "true", "yes", "on"}
#: ``TAP_ROLLOUT`` values: how CodeDeploy shifts the ``live`` alias to a new version, each one
#: of CodeDeploy's predefined Lambda deployment configurations (stacks/rollout.py).
ROLLOUT_CONFIGS = {
    "canary10-5m": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "canary10-10m": "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "canary10-15m": "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "canary10-30m": "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    "linear10-1m": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "linear10-2m": "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "linear10-3m": "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "linear10-10m": "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
    "all-at-once": "CodeDeployDefault.LambdaAllAtOnce",
}
DEFAULT_ROLLOUT = "canary10-5m"
#: The sizes ``StackConfig`` has before a preset is applied: the original HCL's.
ORIGINAL = PRESETS[DEFAULT_PRESET]
_FALSE = {"0", "false", "no", "off"}


def is_bucket_name(name: str) -> bool:
    """Whether S3 accepts ``name`` for a new bucket (the rules the stack relies on)."""
    return bool(re.match(BUCKET_PATTERN, name)) and ".." not in name and not re.match(IP_LIKE_PATTERN, name)


def replica_bucket_name(bucket: str, region: str) -> str:
    """The replica bucket's name for an audit bucket ``bucket`` and a replica region."""
    return f"{bucket}{REPLICA_BUCKET_INFIX}{region}"


@dataclass(frozen=True)
class BackendSettings:
    """Where Terraform keeps this environment's state."""

    kind: BackendKind
    bucket: str | None = None
    key: str = ""
    region: str = DEFAULT_REGION
    #: S3 endpoint of an emulator; None on AWS.
    endpoint: str | None = None


@dataclass(frozen=True)
class StackConfig:
    """All settings of one environment's stack.

    The first block holds the defaults of the six Terraform variables the original HCL
    declares; the production values are the HCL's own, so its names stay as they were.
    """

    environment: str
    name_prefix: str
    # Terraform variable defaults
    aws_region: str
    lambda_allowed_ips: tuple[str, ...]
    dynamodb_table_name: str
    lambda_log_bucket_name: str
    tags: Mapping[str, str]
    api_key_secret_name: str
    backend: BackendSettings
    # Feature switches and sizes (the sizes a preset sets: stacks/preset.py, ``TAP_PRESET``)
    preset: str = ORIGINAL.preset
    lambda_runtime: str = "python3.12"
    lambda_memory_mb: int = ORIGINAL.lambda_memory_mb
    lambda_timeout_seconds: int = 15
    reserved_concurrency: int | None = ORIGINAL.reserved_concurrency
    lambda_in_vpc: bool = True
    vpc_cidr: str = "10.0.0.0/16"
    enforce_ip_allowlist: bool = True
    manage_api_gateway_account: bool = True
    api_cache_enabled: bool = True
    api_throttle_rate_limit: float = ORIGINAL.api_throttle_rate_limit
    api_throttle_burst_limit: int = ORIGINAL.api_throttle_burst_limit
    table_on_demand: bool = ORIGINAL.table_on_demand
    api_4xx_alarm_rate: float | None = ORIGINAL.api_4xx_alarm_rate
    #: API Gateway 4XX responses' ``Access-Control-Allow-Origin`` (``TAP_CORS_ORIGIN``).
    cors_allow_origin: str = DEFAULT_CORS_ORIGIN
    log_retention_days: int = 365
    secret_recovery_window_days: int = 30
    deletion_protection: bool = True
    #: Let this deploy add, change or remove the table's GSIs. Off, Terraform ignores the
    #: index blocks (and their capacity, which autoscaling owns) after the table exists.
    table_index_changes: bool = False
    #: Where alarms go besides the stack's topic (stacks/alerting.py).
    alarm_destinations: AlarmDestinations = field(default_factory=AlarmDestinations)
    #: Alarm when the API's p95 latency stays above this (ms); see stacks/monitoring.py.
    latency_alarm_p95_ms: int = 200
    #: Alarm when a claim sees a pending task older than this (seconds); see stacks/monitoring.py.
    pending_task_age_alarm_seconds: int = 3600
    #: API key rotation: schedule and retirement window (stacks/key_settings.py).
    key_rotation: KeyRotation = field(default_factory=KeyRotation)
    #: How a rollout shifts traffic (a key of ROLLOUT_CONFIGS, ``TAP_ROLLOUT``).
    rollout: str = DEFAULT_ROLLOUT
    #: Region of the audit records' replica bucket (``TAP_AUDIT_REPLICA_REGION``); None: no replica.
    audit_replica_region: str | None = None
    #: Base URL of a local AWS emulator every provider endpoint points at; None on AWS.
    emulator_endpoint: str | None = None


def _production(backend: BackendSettings) -> StackConfig:
    return StackConfig(
        environment="prod",
        name_prefix="tap_stack",
        aws_region=DEFAULT_REGION,
        lambda_allowed_ips=("203.0.113.1", "198.51.100.2"),
        dynamodb_table_name="tap_stack_data",
        lambda_log_bucket_name="tap-stack-logs-bucket",
        tags={"Project": "TapStack", "Environment": "Production", "Owner": "TuringGPT", "ManagedBy": "Terraform"},
        api_key_secret_name="tap_stack_api_keys",
        backend=backend,
    )


def _derived(env: str, label: str, backend: BackendSettings) -> StackConfig:
    """A non-production environment: the same stack under its own names, cheaper and disposable."""
    prefix = f"tap_stack_{env}"
    base = _production(backend)
    return replace(
        base,
        environment=env,
        name_prefix=prefix,
        dynamodb_table_name=f"{prefix}_data",
        lambda_log_bucket_name=f"tap-stack-{env}-logs-bucket",
        tags={**base.tags, "Environment": label},
        api_key_secret_name=f"{prefix}_api_keys",
        api_cache_enabled=False,
        log_retention_days=30,
        secret_recovery_window_days=0,
        deletion_protection=False,
        # The API Gateway CloudWatch role is one per account and region; production owns it.
        manage_api_gateway_account=False,
    )


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if not raw:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a switch: use true or false")


def load_backend(env: str, environ: Mapping[str, str]) -> BackendSettings:
    """Where ``env`` keeps its state with these settings (checks only the backend's own)."""
    try:
        emulator = emulator_endpoint(environ) if env == "local" else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    kind = environ.get("TAP_BACKEND", "s3").strip().lower() or "s3"
    if kind not in ("s3", "local"):
        raise ConfigError(f"TAP_BACKEND={kind!r} is not a backend: use s3 or local")
    prefix = environ.get("TAP_STATE_KEY_PREFIX", "tap-stack").strip("/") or "tap-stack"
    key = f"{prefix}/{env}/terraform.tfstate"
    if not _STATE_KEY_RE.match(key):
        raise ConfigError(f"TAP_STATE_KEY_PREFIX={prefix!r} makes an invalid S3 key {key!r}")
    if emulator:
        # The local environment always keeps its state in the emulator's S3 (created by
        # local/ before `terraform init`), so the S3 backend path is exercised there too.
        return BackendSettings(kind="s3", bucket=LOCAL_STATE_BUCKET, key=key, region=DEFAULT_REGION, endpoint=emulator)
    if kind == "local":
        return BackendSettings(kind="local", key=key)
    bucket = environ.get("TAP_STATE_BUCKET", "").strip()
    if not bucket:
        raise ConfigError(
            f"TAP_STATE_BUCKET is not set: the S3 backend of stack '{env}' needs the state bucket "
            "(or set TAP_BACKEND=local to synthesize with a local backend)"
        )
    if not is_bucket_name(bucket):
        raise ConfigError(f"TAP_STATE_BUCKET={bucket!r} is not a valid S3 bucket name")
    region = environ.get("TAP_STATE_REGION", DEFAULT_REGION).strip()
    if not re.match(REGION_PATTERN, region):
        raise ConfigError(f"TAP_STATE_REGION={region!r} is not an AWS region name (e.g. us-west-2)")
    return BackendSettings(kind="s3", bucket=bucket, key=key, region=region)


def load_config(env: str, environ: Mapping[str, str] | None = None) -> StackConfig:
    """The validated settings of one environment, with ``TAP_*`` overrides applied."""
    environ = os.environ if environ is None else environ
    if env not in ENVIRONMENTS:
        raise ConfigError(f"environment {env!r} is unknown; choose from {', '.join(ENVIRONMENTS)}")
    backend = load_backend(env, environ)
    if env == "prod":
        config = _production(backend)
    elif env == "dev":
        config = _derived("dev", "Development", backend)
    else:
        config = replace(
            _derived("local", "Local", backend),
            emulator_endpoint=backend.endpoint,
            # A fresh emulator has no account-level API Gateway role: the stack brings its own.
            manage_api_gateway_account=True,
            # moto stores the allowlist but never enforces it; the local server is loopback-only.
            lambda_allowed_ips=("127.0.0.1/32",),
        )
    config = replace(
        config,
        alarm_destinations=read_destinations(environ),
        cors_allow_origin=environ.get("TAP_CORS_ORIGIN", "").strip() or config.cors_allow_origin,
        latency_alarm_p95_ms=read_number(
            environ, "TAP_LATENCY_ALARM_P95_MS", config.latency_alarm_p95_ms, int, "a whole number"
        ),
        lambda_in_vpc=_flag(environ, "TAP_LAMBDA_IN_VPC", config.lambda_in_vpc),
        enforce_ip_allowlist=_flag(environ, "TAP_ENFORCE_IP_ALLOWLIST", config.enforce_ip_allowlist),
        manage_api_gateway_account=_flag(environ, "TAP_MANAGE_APIGW_ACCOUNT", config.manage_api_gateway_account),
        api_cache_enabled=_flag(environ, "TAP_API_CACHE", config.api_cache_enabled),
        table_index_changes=_flag(environ, "TAP_TABLE_INDEX_CHANGES", config.table_index_changes),
        rollout=environ.get("TAP_ROLLOUT", "").strip().lower() or config.rollout,
        audit_replica_region=environ.get("TAP_AUDIT_REPLICA_REGION", "").strip() or None,
        key_rotation=read_key_rotation(environ),
        **asdict(read_sizing(environ)),
    )
    from stacks.checks import validate  # noqa: PLC0415 (stacks/checks.py imports this module's names)

    validate(config)
    # The deployable synth of prod must say where alarms go; a local-backend one only warns.
    destinations = config.alarm_destinations
    if config.backend.kind == "s3" and lacks_destination(env, destinations) and not destinations.opt_out:
        raise missing_destination_error(env)
    return config


def config_warning(config: StackConfig) -> str | None:
    """One line main.py prints on stderr for settings that work but deserve a look."""
    return destination_warning(config.environment, config.alarm_destinations)


def selected_environments(environ: Mapping[str, str] | None = None) -> list[str]:
    """The environments to synthesize: ``TAP_ENVIRONMENTS`` (comma-separated) or all."""
    environ = os.environ if environ is None else environ
    raw = environ.get("TAP_ENVIRONMENTS", "").strip()
    if not raw:
        return list(ENVIRONMENTS)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENVIRONMENTS]
    if unknown or not names:
        raise ConfigError(f"TAP_ENVIRONMENTS={raw!r} names unknown environments; choose from {', '.join(ENVIRONMENTS)}")
    return list(dict.fromkeys(names))
