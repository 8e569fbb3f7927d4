"""Switching a deployed stack to ``TAP_PRESET=scale``, as Terraform plans it against the state.

Uses the session's ``deployment`` (the local stack applied with the default preset). The
stack is synthesized again with ``TAP_PRESET=scale`` into a folder of its own, whose backend
is the deployment's state on the emulator, and planned there (never applied: the deployment
is shared). docs/capacity.md, "Switching presets", lists the same changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.local_deployment import Deployment
from workspace.paths import PROJECT
from workspace.terraform import emulator_env, run_terraform

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

#: What the switch changes in place: the sizes ``scale`` sets.
UPDATED = {
    "aws_dynamodb_table.data",
    "aws_lambda_function.main",
    "aws_api_gateway_method_settings.prod_settings",
    "aws_cloudwatch_metric_alarm.apigw_4xx",
}
#: What it removes: AWS refuses scalable targets on an on-demand table.
SCALED = ["dynamodb", "gsi_status_created", "gsi_status_queue", "gsi_queue_shard"]
DELETED = {
    f"aws_appautoscaling_{kind}.{stem}_{unit}{suffix}"
    for stem in SCALED
    for unit in ("read", "write")
    for kind, suffix in (("target", ""), ("policy", "_policy"))
}


def _plan(deployment: Deployment, folder: Path) -> dict[str, list[str]]:
    """{address: Terraform's actions} of every resource the scale synth would change."""
    settings = dict(
        deployment.env,
        TAP_ENVIRONMENTS="local",
        TAP_BACKEND="s3",
        TAP_EMULATOR_ENDPOINT=deployment.session.endpoint,
        CDKTF_OUTDIR=str(folder),
        TAP_PRESET="scale",
    )
    synth = subprocess.run(
        [sys.executable, "main.py"], cwd=PROJECT, env=settings, capture_output=True, text=True, check=False
    )
    assert synth.returncode == 0, synth.stderr[-2000:]
    stack = folder / "stacks" / "local"
    env = emulator_env()
    for command in (["init"], ["plan", "-lock=false", "-out=switch.plan"]):
        result = run_terraform([*command, "-input=false", "-no-color"], stack, env, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:]
    shown = run_terraform(["show", "-json", "switch.plan"], stack, env, timeout=300)
    assert shown.returncode == 0, shown.stdout[-2000:]
    changes = json.loads(shown.stdout)["resource_changes"]
    return {c["address"]: c["change"]["actions"] for c in changes if c["change"]["actions"] != ["no-op"]}


def test_switching_to_scale_changes_the_sizes_in_place_and_replaces_nothing(
    deployment: Deployment, tmp_path: Path
) -> None:
    actions = _plan(deployment, tmp_path / "cdktf.out")
    replaced = sorted(address for address, act in actions.items() if {"create", "delete"} <= set(act))
    assert replaced == []
    assert {address for address, act in actions.items() if act == ["delete"]} == DELETED
    assert {address for address, act in actions.items() if act == ["update"]} == UPDATED
    assert [address for address, act in actions.items() if act == ["create"]] == []
