"""The guard on real plans: the original HCL deployed to the emulator, the stack (or a broken
variant of it) planned against that state by ``python -m migration``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from migration.commands import EMULATOR_STATE_BUCKET
from migration.expected import load_expected
from tests.migration.conftest import CANNOT_JUDGE, Run, run_migration
from workspace import clients
from workspace import emulator as moto

pytestmark = [pytest.mark.migration, pytest.mark.timeout(1800)]

SUMMARY = re.compile(
    r"^migration: (\d+)/(\d+) original resources kept \((\d+) updated in place, (all expected|\d+ not expected)\), "
    r"(\d+) added, (\d+) replaced, (\d+) destroyed$"
)
Variant = Callable[[Callable[[dict[str, Any]], None]], Path]


def check(stack_dir: Path, state: Path, emulator: moto.RunningEmulator, tmp_path: Path, *extra: str) -> Run:
    return run_migration(
        "check", "--env", "prod", "--stack-dir", stack_dir, "--from-state", state,
        "--emulator", emulator.endpoint, "--plan-out", tmp_path / "plan.json", *extra,
    )  # fmt: skip


def summary(run: Run) -> re.Match[str]:
    last = run.stdout.strip().splitlines()[-1]
    match = SUMMARY.match(last)
    assert match, f"the output does not end with the summary line:\n{run.output}"
    return match


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_original_deployment_holds_exactly_the_expected_original_addresses(original_state: Path) -> None:
    state = json.loads(original_state.read_text())
    deployed = {f"{r['type']}.{r['name']}" for r in state["resources"] if r["mode"] == "managed"}
    assert deployed == set(load_expected().originals)


def test_a_renamed_original_resource_is_reported_as_destroyed(
    make_variant: Variant, state_copy: Path, running_emulator: moto.RunningEmulator, tmp_path: Path
) -> None:
    def rename(stack: dict[str, Any]) -> None:
        alarms = stack["resource"]["aws_cloudwatch_metric_alarm"]
        alarms["apigw_5xx_renamed"] = alarms.pop("apigw_5xx")
        # Every reference follows the rename: the output, the dashboard's alarm widget, the rollout group.
        text = json.dumps(stack).replace(
            "aws_cloudwatch_metric_alarm.apigw_5xx.", "aws_cloudwatch_metric_alarm.apigw_5xx_renamed."
        )
        stack.update(json.loads(text))
        assert stack["output"]["cloudwatch_alarm_5xx_name"]["value"].startswith(
            "${aws_cloudwatch_metric_alarm.apigw_5xx_renamed."
        )

    before = digest(state_copy)
    run = check(make_variant(rename), state_copy, running_emulator, tmp_path)
    assert run.code == 1, run.output
    assert re.search(r"NOT OK\s+DESTROY\s+aws_cloudwatch_metric_alarm\.apigw_5xx\b", run.stdout), run.stdout
    assert re.search(r"NOT OK\s+add\s+aws_cloudwatch_metric_alarm\.apigw_5xx_renamed.*not list", run.stdout)
    match = summary(run)
    assert (match[1], match[2], match[7]) == ("24", "25", "1")
    assert digest(state_copy) == before, "the given state must never be modified"


def test_a_change_that_forces_replacement_is_reported_as_replace(
    make_variant: Variant, state_copy: Path, running_emulator: moto.RunningEmulator, tmp_path: Path
) -> None:
    def rename_role(stack: dict[str, Any]) -> None:
        stack["resource"]["aws_iam_role"]["lambda_exec"]["name"] = "tap_stack_lambda_exec_role_v2"

    run = check(make_variant(rename_role), state_copy, running_emulator, tmp_path, "--json")
    assert run.code == 1, run.output
    verdict = json.loads(run.stdout)
    role = next(c for c in verdict["changes"] if c["address"] == "aws_iam_role.lambda_exec")
    assert (role["action"], role["expected"]) == ("replace", False)
    assert "name" in role["replace_paths"]
    assert "replace" in role["problem"]
    assert verdict["counts"]["replace"] >= 1
    assert verdict["ok"] is False


def test_an_in_place_update_not_in_the_expected_changes_is_named(
    make_variant: Variant, state_copy: Path, running_emulator: moto.RunningEmulator, tmp_path: Path
) -> None:
    def no_dns_hostnames(stack: dict[str, Any]) -> None:
        stack["resource"]["aws_vpc"]["main"]["enable_dns_hostnames"] = False

    run = check(make_variant(no_dns_hostnames), state_copy, running_emulator, tmp_path)
    assert run.code == 1, run.output
    assert re.search(r"NOT OK\s+update\s+aws_vpc\.main .*enable_dns_hostnames", run.stdout), run.stdout
    assert re.search(r"enable_dns_hostnames: true -> false\s+\[NOT EXPECTED\]", run.stdout), run.stdout
    match = summary(run)
    assert (match[1], match[2], match[4], match[6], match[7]) == ("25", "25", "1 not expected", "0", "0")


def test_an_original_resource_missing_from_the_state_would_be_created_twice(
    prod_stack_dir: Path, state_copy: Path, running_emulator: moto.RunningEmulator, tmp_path: Path
) -> None:
    state = json.loads(state_copy.read_text())
    state["resources"] = [
        r for r in state["resources"] if (r["type"], r["name"]) != ("aws_cloudwatch_metric_alarm", "apigw_4xx")
    ]
    state_copy.write_text(json.dumps(state))
    run = check(prod_stack_dir, state_copy, running_emulator, tmp_path)
    assert run.code == 1, run.output
    assert re.search(r"NOT OK\s+add\s+aws_cloudwatch_metric_alarm\.apigw_4xx .*missing from the state", run.stdout)
    match = summary(run)
    assert (match[1], match[2], match[6], match[7]) == ("24", "25", "0", "0")


def test_the_real_stack_adopts_the_original_state_and_checks_clean(
    prod_stack_dir: Path, original_state: Path, running_emulator: moto.RunningEmulator, tmp_path: Path
) -> None:
    """adopt from an S3 URL: check, backup (SHA-256), write to the backend key, check again through the backend."""
    s3 = running_emulator.client("s3")
    for bucket in ("original-deployment-state", EMULATOR_STATE_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": clients.REGION})
    data = original_state.read_bytes()
    s3.put_object(Bucket="original-deployment-state", Key="hcl/terraform.tfstate", Body=data)
    backups = tmp_path / "backups"
    args = (
        "adopt", "--env", "prod", "--stack-dir", prod_stack_dir, "--emulator", running_emulator.endpoint,
        "--from-state", "s3://original-deployment-state/hcl/terraform.tfstate",
        "--backup-dir", backups, "--plan-out", tmp_path / "plan.json",
    )  # fmt: skip
    run = run_migration(*args)
    assert run.code == 0, run.output
    sha = hashlib.sha256(data).hexdigest()
    [backup] = list(backups.iterdir())
    assert backup.read_bytes() == data
    assert f"sha256 {sha}" in run.stdout
    adopted = s3.get_object(Bucket=EMULATOR_STATE_BUCKET, Key="tap-stack/prod/terraform.tfstate")["Body"].read()
    assert adopted == data
    assert s3.get_object(Bucket="original-deployment-state", Key="hcl/terraform.tfstate")["Body"].read() == data
    backend = f"s3://{EMULATOR_STATE_BUCKET}/tap-stack/prod/terraform.tfstate"
    assert f"planned against the backend state {backend}" in run.stdout
    assert "verdict: safe to move" in run.stdout
    match = summary(run)
    kept, total, _, expectation, added, replaced, destroyed = match.groups()
    assert (kept, total, expectation, replaced, destroyed) == ("25", "25", "all expected", "0", "0")
    assert int(added) > 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    created = {rc["address"] for rc in plan["resource_changes"] if rc["change"]["actions"] == ["create"]}
    assert created <= load_expected().added and len(created) == int(added)

    again = run_migration(*args)
    assert again.code == CANNOT_JUDGE, again.output
    assert "already holds a state with 25 resources" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert [p.name for p in backups.iterdir()] == [backup.name], "a refused adopt writes no backup"

    forced = run_migration(*args, "--force")
    assert forced.code == 0, forced.output
    assert re.search(rf"backup: \S+ sha256 {sha} \(the state --force replaces\)", forced.stdout), forced.stdout
    new_backups = sorted(p for p in backups.iterdir() if p.name != backup.name)
    assert len(new_backups) == 2 and all(p.read_bytes() == data for p in new_backups)
    assert "verdict: safe to move" in forced.stdout
    assert s3.get_object(Bucket=EMULATOR_STATE_BUCKET, Key="tap-stack/prod/terraform.tfstate")["Body"].read() == data
