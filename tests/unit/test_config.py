"""Bad settings fail before anything is synthesized, with one line that names them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from stacks.checks import validate
from stacks.config import ConfigError, load_config, selected_environments
from tests.unit.helpers import imported_modules

ROOT = Path(__file__).resolve().parents[2]
#: A deployable prod: state bucket and an alarm destination.
BUCKET = {"TAP_STATE_BUCKET": "my-state-bucket", "TAP_ALARM_EMAILS": "ops@example.com"}


@pytest.mark.parametrize(
    ("env", "environ", "names"),
    [
        ("prod", {}, "TAP_STATE_BUCKET"),
        ("prod", {"TAP_STATE_BUCKET": "Bad_Bucket"}, "TAP_STATE_BUCKET"),
        ("prod", {"TAP_STATE_BUCKET": "10.1.2.3"}, "TAP_STATE_BUCKET"),
        ("prod", {**BUCKET, "TAP_STATE_REGION": "mars-1"}, "TAP_STATE_REGION"),
        ("prod", {**BUCKET, "TAP_BACKEND": "consul"}, "TAP_BACKEND"),
        ("prod", {**BUCKET, "TAP_LAMBDA_IN_VPC": "maybe"}, "TAP_LAMBDA_IN_VPC"),
        ("prod", {**BUCKET, "TAP_API_CACHE": "2"}, "TAP_API_CACHE"),
        ("prod", {**BUCKET, "TAP_TABLE_INDEX_CHANGES": "now"}, "TAP_TABLE_INDEX_CHANGES"),
        ("prod", {**BUCKET, "TAP_ALARM_EMAILS": "not-an-email"}, "TAP_ALARM_EMAILS entry 'not-an-email'"),
        ("prod", {**BUCKET, "TAP_ROLLOUT": "blue-green"}, "TAP_ROLLOUT='blue-green' is not a rollout"),
        ("local", {"TAP_EMULATOR_ENDPOINT": "http://10.0.0.5:4566"}, "TAP_EMULATOR_ENDPOINT"),
        ("staging", BUCKET, "environment 'staging'"),
    ],
)
def test_bad_setting_is_named(env: str, environ: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names) as caught:
        load_config(env, environ)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "names"),
    [
        ("lambda_runtime", "python3.8", "lambda_runtime='python3.8' is not supported"),
        ("log_retention_days", 45, "log_retention_days=45 is not a period CloudWatch Logs accepts"),
        ("secret_recovery_window_days", 3, "secret_recovery_window_days=3 must be 0 or 7-30"),
        ("lambda_allowed_ips", (), "lambda_allowed_ips is empty while enforce_ip_allowlist is on"),
        ("lambda_allowed_ips", ("1.2.3.4/99",), "'1.2.3.4/99' is not an IP address or CIDR block"),
        ("lambda_log_bucket_name", "UPPER", "lambda_log_bucket_name='UPPER' is not a valid S3 bucket name"),
        ("lambda_log_bucket_name", "192.168.1.1", "lambda_log_bucket_name='192.168.1.1' is not a valid S3 bucket name"),
        ("aws_region", "us-west-2b", "aws_region='us-west-2b' is not an AWS region name"),
        ("lambda_timeout_seconds", 60, "lambda_timeout_seconds=60 must be 1-29"),
        ("vpc_cidr", "10.0.0.0/8", "must be an IPv4 block from /16 to /24"),
    ],
)
def test_bad_stack_setting_is_named(field: str, value: object, names: str) -> None:
    config = replace(load_config("prod", BUCKET), **{field: value})
    with pytest.raises(ConfigError, match=names.replace("(", r"\(").replace("[", r"\[")):
        validate(config)


def test_an_empty_allowlist_is_fine_when_not_enforced() -> None:
    config = replace(load_config("prod", BUCKET), lambda_allowed_ips=(), enforce_ip_allowlist=False)
    assert validate(config) is config


def test_switches_accept_the_usual_spellings() -> None:
    assert load_config("prod", {**BUCKET, "TAP_LAMBDA_IN_VPC": "off"}).lambda_in_vpc is False
    assert load_config("dev", {**BUCKET, "TAP_API_CACHE": "Yes"}).api_cache_enabled is True
    assert load_config("prod", BUCKET).table_index_changes is False
    assert load_config("prod", {**BUCKET, "TAP_TABLE_INDEX_CHANGES": "true"}).table_index_changes is True


def test_environment_defaults() -> None:
    prod = load_config("prod", BUCKET)
    dev = load_config("dev", BUCKET)
    assert (prod.secret_recovery_window_days, dev.secret_recovery_window_days) == (30, 0)
    assert (prod.api_cache_enabled, dev.api_cache_enabled) == (True, False)
    assert (prod.manage_api_gateway_account, dev.manage_api_gateway_account) == (True, False)
    assert prod.lambda_runtime == "python3.12"


def test_environment_selection() -> None:
    assert selected_environments({}) == ["prod", "dev", "local"]
    assert selected_environments({"TAP_ENVIRONMENTS": "dev, local,dev"}) == ["dev", "local"]
    with pytest.raises(ConfigError, match="TAP_ENVIRONMENTS"):
        selected_environments({"TAP_ENVIRONMENTS": "qa"})


def test_main_reports_a_bad_setting_in_one_line_without_a_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_")}
    env.update({"TAP_ENVIRONMENTS": "prod", "TAP_BACKEND": "s3"})
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert not {"cdktf", "jsii"} & imported_modules(result.stderr), "settings are checked before CDKTF loads"
    assert [line for line in result.stderr.splitlines() if not line.startswith("import time:")] == [
        "tap-stack: config error: TAP_STATE_BUCKET is not set: the S3 backend of stack 'prod' needs the state "
        "bucket (or set TAP_BACKEND=local to synthesize with a local backend)"
    ]
    assert "Traceback" not in result.stderr + result.stdout
