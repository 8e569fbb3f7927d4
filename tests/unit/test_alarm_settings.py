"""Alarm destinations, the latency threshold and the CORS origin: read, checked, refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.config import ConfigError, config_warning, load_config
from tests.unit.helpers import imported_modules

ROOT = Path(__file__).resolve().parents[2]
S3 = {"TAP_STATE_BUCKET": "my-state-bucket"}
EMAIL = {"TAP_ALARM_EMAILS": "ops@example.com"}
TOPIC = "arn:aws:sns:us-west-2:123456789012:tap-pager"


def run_main(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """main.py for prod in a fresh process with only ``settings`` among the TAP_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_")}
    env.update({"TAP_ENVIRONMENTS": "prod", "CDKTF_OUTDIR": str(tmp_path / "out"), **settings})
    return subprocess.run(
        [sys.executable, "-X", "importtime", "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("import time:")]


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (S3, "tap-stack: config error: prod: alarms have no destination: set TAP_ALARM_EMAILS (comma-separated "
             "addresses), TAP_ALARM_TOPIC_ARN (an existing SNS topic) or TAP_ALARM_DESTINATION=none "
             "(no notifications)"),
        ({**S3, "TAP_ALARM_EMAILS": "ops@example.com,pager"},
         "tap-stack: config error: prod: TAP_ALARM_EMAILS entry 'pager' is not an e-mail address"),
        ({**S3, "TAP_ALARM_TOPIC_ARN": "arn:aws:sqs:us-west-2:123456789012:q"},
         "tap-stack: config error: prod: TAP_ALARM_TOPIC_ARN='arn:aws:sqs:us-west-2:123456789012:q' is not a "
         "standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"),
    ],
)  # fmt: skip
def test_main_refuses_in_one_line_and_writes_nothing(tmp_path: Path, settings: dict[str, str], line: str) -> None:
    result = run_main(tmp_path, **settings)
    assert result.returncode == 2
    assert stderr_lines(result) == [line]
    assert not {"cdktf", "jsii"} & imported_modules(result.stderr), "settings are checked before CDKTF loads"
    assert not (tmp_path / "out").exists(), "nothing is written"
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_a_local_backend_synth_of_prod_without_a_destination_warns_once(tmp_path: Path) -> None:
    result = run_main(tmp_path, TAP_BACKEND="local")
    assert result.returncode == 0, result.stderr[-2000:]
    assert stderr_lines(result) == [
        "tap-stack: warning: prod: alarms have no destination (TAP_ALARM_EMAILS (comma-separated addresses), "
        "TAP_ALARM_TOPIC_ARN (an existing SNS topic) or TAP_ALARM_DESTINATION=none); accepted with "
        "TAP_BACKEND=local, refused with the S3 backend"
    ]
    stack = json.loads((tmp_path / "out" / "stacks" / "prod" / "cdk.tf.json").read_text())
    assert "aws_sns_topic_subscription" not in stack["resource"]
    assert stack["terraform"]["backend"] == {"local": {"path": "terraform.prod.tfstate"}}


def test_destinations_are_read() -> None:
    several = load_config(
        "prod", {**S3, "TAP_ALARM_EMAILS": " a@example.com, b+x@example.org ", "TAP_ALARM_TOPIC_ARN": TOPIC}
    )
    assert several.alarm_destinations.emails == ("a@example.com", "b+x@example.org")
    assert several.alarm_destinations.topic_arn == TOPIC
    assert load_config("prod", {**S3, "TAP_ALARM_EMAIL": "ops@example.com"}).alarm_destinations.emails == (
        "ops@example.com",
    ), "TAP_ALARM_EMAIL stays a one-address alias"
    topic_only = load_config("prod", {**S3, "TAP_ALARM_TOPIC_ARN": TOPIC})
    assert (topic_only.alarm_destinations.emails, config_warning(topic_only)) == ((), None)


def test_opting_out_is_allowed_with_one_warning_line() -> None:
    config = load_config("prod", {**S3, "TAP_ALARM_DESTINATION": "none"})
    assert config.alarm_destinations.opt_out
    assert config_warning(config) == (
        "prod: TAP_ALARM_DESTINATION=none: the alarms notify only the stack's own SNS topic, "
        "which nobody is subscribed to"
    )


def test_dev_and_local_keep_an_optional_destination() -> None:
    for env, environ in (("dev", S3), ("local", {})):
        config = load_config(env, environ)
        assert (config.alarm_destinations.empty, config_warning(config)) == (True, None)


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"TAP_ALARM_EMAILS": "a@example.com,,b@example.com"},
         "TAP_ALARM_EMAILS='a@example.com,,b@example.com' has an empty entry"),
        ({"TAP_ALARM_EMAILS": "a@example.com,A@example.com"}, "TAP_ALARM_EMAILS lists 'A@example.com' twice"),
        ({"TAP_ALARM_EMAILS": "Ops <ops@example.com>"}, "TAP_ALARM_EMAILS entry 'Ops <ops@example.com>'"),
        ({"TAP_ALARM_EMAIL": "a@example.com,b@example.com"}, "holds several addresses: use TAP_ALARM_EMAILS"),
        ({"TAP_ALARM_EMAIL": "a@example.com", **EMAIL}, "TAP_ALARM_EMAIL is the one-address alias of TAP_ALARM_EMAILS"),
        ({"TAP_ALARM_TOPIC_ARN": "tap-pager"}, "TAP_ALARM_TOPIC_ARN='tap-pager' is not a standard SNS topic ARN"),
        ({"TAP_ALARM_TOPIC_ARN": TOPIC + ".fifo"}, "is not a standard SNS topic ARN"),
        ({"TAP_ALARM_TOPIC_ARN": TOPIC.replace("us-west-2", "eu-west-1")}, "is in eu-west-1, the alarms in us-west-2"),
        ({"TAP_ALARM_DESTINATION": "slack"}, "TAP_ALARM_DESTINATION='slack' is not understood"),
        ({"TAP_ALARM_DESTINATION": "none", **EMAIL}, "TAP_ALARM_DESTINATION=none contradicts"),
        ({"TAP_LATENCY_ALARM_P95_MS": "fast", **EMAIL}, "TAP_LATENCY_ALARM_P95_MS='fast' is not a whole number"),
        ({"TAP_LATENCY_ALARM_P95_MS": "10", **EMAIL}, "TAP_LATENCY_ALARM_P95_MS=10 must be 50-29000"),
        ({"TAP_LATENCY_ALARM_P95_MS": "30000", **EMAIL}, "TAP_LATENCY_ALARM_P95_MS=30000 must be 50-29000"),
        ({"TAP_CORS_ORIGIN": "https://app.example.com/", **EMAIL},
         "TAP_CORS_ORIGIN='https://app.example.com/' is not an origin"),
        ({"TAP_CORS_ORIGIN": "ftp://app.example.com", **EMAIL}, "TAP_CORS_ORIGIN='ftp://app.example.com'"),
        ({"TAP_CORS_ORIGIN": "https://user@app.example.com", **EMAIL}, "TAP_CORS_ORIGIN='https://user@app.example.com'"),
        ({"TAP_CORS_ORIGIN": "https://app.example.com?x=1", **EMAIL}, "TAP_CORS_ORIGIN='https://app.example.com?x=1'"),
        ({"TAP_CORS_ORIGIN": "https://a.com'", **EMAIL}, "TAP_CORS_ORIGIN=\"https://a.com'\" is not an origin"),
    ],
)  # fmt: skip
def test_bad_alarm_or_cors_setting_is_named(environ: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace("(", r"\(").replace("?", r"\?").replace("+", r"\+")) as caught:
        load_config("prod", {**S3, **environ})
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("origin", ["*", "https://app.example.com", "http://localhost:3000", "https://[::1]:8443"])
def test_good_cors_origins_are_taken(origin: str) -> None:
    assert load_config("prod", {**S3, **EMAIL, "TAP_CORS_ORIGIN": origin}).cors_allow_origin == origin


def test_defaults_keep_the_original_cors_origin_and_the_designs_latency_aim() -> None:
    config = load_config("prod", {**S3, **EMAIL})
    assert (config.cors_allow_origin, config.latency_alarm_p95_ms) == ("https://google.com", 200)
    assert load_config("prod", {**S3, **EMAIL, "TAP_LATENCY_ALARM_P95_MS": "350"}).latency_alarm_p95_ms == 350
