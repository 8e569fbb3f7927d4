"""``TAP_PRESET``: what each preset synthesizes, and the settings it refuses in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stacks.config import ConfigError, load_config
from tests.unit.helpers import addresses, imported_modules, validation_report

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"TAP_BACKEND": "local"}


@pytest.fixture(scope="module")
def scale_stack(scale_synth: tuple[Any, str]) -> dict[str, Any]:
    return json.loads(scale_synth[1])


def sizing(stack: dict[str, Any]) -> dict[str, Any]:
    """What a preset sets, as the synthesized JSON says it."""
    resources = stack["resource"]
    table = resources["aws_dynamodb_table"]["data"]
    method = resources["aws_api_gateway_method_settings"]["prod_settings"]["settings"]
    function = resources["aws_lambda_function"]["main"]
    alarm = resources["aws_cloudwatch_metric_alarm"]["apigw_4xx"]
    return {
        "throttle": (method["throttling_rate_limit"], method["throttling_burst_limit"]),
        "billing": table["billing_mode"],
        "capacity": [(table.get("read_capacity"), table.get("write_capacity"))]
        + [(index.get("read_capacity"), index.get("write_capacity")) for index in table["global_secondary_index"]],
        "scaling": sorted(
            (name, target["min_capacity"], target["max_capacity"])
            for name, target in resources.get("aws_appautoscaling_target", {}).items()
        ),
        "policies": sorted(resources.get("aws_appautoscaling_policy", {})),
        "function": (function["memory_size"], function.get("reserved_concurrent_executions")),
        "4xx alarm": (alarm["statistic"], alarm["threshold"]),
    }


def test_the_default_preset_is_the_originals_values(prod_stack: dict[str, Any]) -> None:
    scaled = ["dynamodb", "gsi_status_created", "gsi_status_queue", "gsi_queue_shard"]
    assert sizing(prod_stack) == {
        "throttle": (100, 200),
        "billing": "PROVISIONED",
        "capacity": [(5, 5)] * 4,
        "scaling": sorted((f"{stem}_{unit}", 5, 100) for stem in scaled for unit in ("read", "write")),
        "policies": sorted(f"{stem}_{unit}_policy" for stem in scaled for unit in ("read", "write")),
        "function": (256, None),
        "4xx alarm": ("Sum", 1),
    }
    assert load_config("prod", LOCAL).preset == "original"


def test_scale_synthesizes_on_demand_capacity_a_wider_stage_and_a_reserved_function(
    scale_stack: dict[str, Any],
) -> None:
    assert sizing(scale_stack) == {
        "throttle": (3000, 1000),
        "billing": "PAY_PER_REQUEST",
        "capacity": [(None, None)] * 4,
        "scaling": [],
        "policies": [],
        "function": (1024, 1000),
        "4xx alarm": ("Average", 0.05),
    }
    description = scale_stack["resource"]["aws_cloudwatch_metric_alarm"]["apigw_4xx"]["alarm_description"]
    assert description.startswith("Alarm for API Gateway 4XX errors (more than 5% of requests in a minute).")


def test_scale_keeps_every_address_but_the_autoscaling_an_on_demand_table_refuses(
    prod_stack: dict[str, Any], scale_stack: dict[str, Any]
) -> None:
    original, scale = set(addresses(prod_stack)), set(addresses(scale_stack))
    assert scale < original
    assert {address.split(".")[0] for address in original - scale} == {
        "aws_appautoscaling_target",
        "aws_appautoscaling_policy",
    }


def test_explicit_settings_raise_a_preset(scale_stack: dict[str, Any]) -> None:
    raised = load_config(
        "prod",
        {
            **LOCAL,
            "TAP_PRESET": "Scale",
            "TAP_API_THROTTLE_RATE": "4500.5",
            "TAP_API_THROTTLE_BURST": "1500",
            "TAP_LAMBDA_MEMORY_MB": "2048",
            "TAP_LAMBDA_RESERVED_CONCURRENCY": "1500",
        },
    )
    assert (raised.preset, raised.api_throttle_rate_limit, raised.api_throttle_burst_limit) == ("scale", 4500.5, 1500)
    assert (raised.lambda_memory_mb, raised.reserved_concurrency, raised.table_on_demand) == (2048, 1500, True)
    explicit = {"TAP_API_THROTTLE_RATE": "250", "TAP_LAMBDA_RESERVED_CONCURRENCY": "300"}
    original = load_config("prod", {**LOCAL, **explicit})
    assert (original.api_throttle_rate_limit, original.reserved_concurrency) == (250, 300)


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        ({"TAP_PRESET": "huge"}, "TAP_PRESET='huge' is not a preset; use one of original, scale"),
        ({"TAP_PRESET": "scale", "TAP_API_THROTTLE_RATE": "500"},
         "TAP_API_THROTTLE_RATE=500 contradicts TAP_PRESET=scale, which sets 3000 requests/s: "
         "raise it, or choose another preset"),
        ({"TAP_API_THROTTLE_BURST": "150"},
         "TAP_API_THROTTLE_BURST=150 contradicts TAP_PRESET=original, which sets 200 requests: "
         "raise it, or choose another preset"),
        ({"TAP_PRESET": "scale", "TAP_LAMBDA_MEMORY_MB": "512"},
         "TAP_LAMBDA_MEMORY_MB=512 contradicts TAP_PRESET=scale, which sets 1024 MB: "
         "raise it, or choose another preset"),
        ({"TAP_PRESET": "scale", "TAP_LAMBDA_RESERVED_CONCURRENCY": "100"},
         "TAP_LAMBDA_RESERVED_CONCURRENCY=100 contradicts TAP_PRESET=scale, which sets 1000 executions: "
         "raise it, or choose another preset"),
        ({"TAP_PRESET": "scale", "TAP_API_THROTTLE_BURST": "2000"},
         "TAP_API_THROTTLE_BURST=2000 exceeds the function's reserved concurrency 1000 "
         "(TAP_LAMBDA_RESERVED_CONCURRENCY, TAP_PRESET=scale): the stage would admit more simultaneous "
         "requests than the function may run"),
        ({"TAP_API_THROTTLE_RATE": "fast"}, "TAP_API_THROTTLE_RATE='fast' is not a number above 0"),
        ({"TAP_API_THROTTLE_RATE": "inf"}, "TAP_API_THROTTLE_RATE='inf' is not a number above 0"),
        ({"TAP_LAMBDA_MEMORY_MB": "1.5"}, "TAP_LAMBDA_MEMORY_MB='1.5' is not a whole number above 0"),
    ],
)  # fmt: skip
def test_a_bad_or_contradicting_setting_is_named(settings: dict[str, str], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("prod", {**LOCAL, **settings})
    assert str(caught.value) == line


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        ({"TAP_PRESET": "burst"}, "TAP_PRESET='burst' is not a preset; use one of original, scale"),
        ({"TAP_PRESET": "scale", "TAP_API_THROTTLE_RATE": "100"},
         "TAP_API_THROTTLE_RATE=100 contradicts TAP_PRESET=scale, which sets 3000 requests/s: "
         "raise it, or choose another preset"),
    ],
)  # fmt: skip
def test_main_refuses_in_one_line_and_writes_nothing(tmp_path: Path, settings: dict[str, str], line: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_")}
    env.update({"TAP_ENVIRONMENTS": "prod", "TAP_BACKEND": "local", "CDKTF_OUTDIR": str(tmp_path / "out"), **settings})
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert [text for text in result.stderr.splitlines() if not text.startswith("import time:")] == [
        f"tap-stack: config error: {line}"
    ]
    assert not {"cdktf", "jsii"} & imported_modules(result.stderr), "settings are checked before CDKTF loads"
    assert not (tmp_path / "out").exists(), "nothing is written"
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.terraform
def test_terraform_validates_the_scale_stack(scale_stack_dir: Path) -> None:
    report = validation_report(scale_stack_dir)
    assert (report["valid"], report["error_count"], report["warning_count"]) == (True, 0, 0), report["diagnostics"]
