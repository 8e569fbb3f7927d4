"""Renames on real plans: a resource of the state that the stack no longer declares is named
before any plan (even when Terraform cannot plan), and a rename declared the CDKTF way
(``move_from_id``, a Terraform ``moved`` block) keeps the resource and is reported."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.migration.test_plans import Variant, check, summary
from workspace import emulator as moto

pytestmark = [pytest.mark.migration, pytest.mark.timeout(1800)]

MISSING_VPC = "in your state, not in the stack: aws_vpc.main (renamed or removed?)"


def rename_vpc(stack: dict[str, Any]) -> None:
    """``aws_vpc.main`` becomes ``aws_vpc.primary``, every reference to it included."""
    renamed = json.loads(re.sub(r"\baws_vpc\.main\b", "aws_vpc.primary", json.dumps(stack)))
    renamed["resource"]["aws_vpc"]["primary"] = renamed["resource"]["aws_vpc"].pop("main")
    stack.clear()
    stack.update(renamed)


def test_a_renamed_vpc_is_named_even_though_terraform_cannot_plan(
    make_variant: Variant, state_copy: Path, running_emulator: moto.RunningEmulator, tmp_path: Path
) -> None:
    run = check(make_variant(rename_vpc), state_copy, running_emulator, tmp_path)
    assert run.code == 1, run.output
    assert MISSING_VPC in run.stdout, run.stdout
    assert run.stdout.count("in your state, not in the stack:") == 1, run.stdout
    assert "move_from_id(" in run.stdout
    # Terraform cannot plan this rename (a dependency cycle through the VPC's replacements);
    # the verdict stands on the addresses alone.
    assert re.search(r"^not planned: terraform plan failed: Cycle", run.stdout, re.MULTILINE), run.stdout
    assert "plan:  none (terraform failed)" in run.stdout
    assert not (tmp_path / "plan.json").exists()
    assert "verdict: NOT safe to move: 1 resource(s) of the state not in the stack" in run.stdout
    assert run.stdout.strip().splitlines()[-1] == (
        "migration: 24/25 original resources kept, 1 in the state but not in the stack; "
        "not planned (terraform could not plan)"
    )


def test_a_rename_with_a_declared_move_keeps_the_vpc_and_reports_the_move(
    make_variant: Variant,
    cdktf_vpc_move: list[dict[str, str]],
    state_copy: Path,
    running_emulator: moto.RunningEmulator,
    tmp_path: Path,
) -> None:
    def rename_and_move(stack: dict[str, Any]) -> None:
        rename_vpc(stack)
        stack["moved"] = cdktf_vpc_move

    run = check(make_variant(rename_and_move), state_copy, running_emulator, tmp_path)
    assert run.code == 0, run.output
    assert "moved: aws_vpc.main -> aws_vpc.primary" in run.stdout.splitlines(), run.stdout
    assert "not in the stack" not in run.stdout
    assert "verdict: safe to move" in run.stdout
    kept, total, _, expectation, _, replaced, destroyed = summary(run).groups()
    assert (kept, total, expectation, replaced, destroyed) == ("25", "25", "all expected", "0", "0")
    plan = json.loads((tmp_path / "plan.json").read_text())
    [vpc] = [rc for rc in plan["resource_changes"] if rc["address"] == "aws_vpc.primary"]
    assert vpc["previous_address"] == "aws_vpc.main"
    assert vpc["change"]["actions"] == ["no-op"]


def test_a_moved_vpc_whose_cidr_changes_is_still_reported_as_replaced(
    make_variant: Variant,
    cdktf_vpc_move: list[dict[str, str]],
    state_copy: Path,
    running_emulator: moto.RunningEmulator,
    tmp_path: Path,
) -> None:
    def move_and_change_cidr(stack: dict[str, Any]) -> None:
        rename_vpc(stack)
        stack["moved"] = cdktf_vpc_move
        stack["resource"]["aws_vpc"]["primary"]["cidr_block"] = "10.1.0.0/16"

    run = check(make_variant(move_and_change_cidr), state_copy, running_emulator, tmp_path, "--json")
    assert run.code == 1, run.output
    verdict = json.loads(run.stdout)
    vpc = next(c for c in verdict["changes"] if c["address"] == "aws_vpc.primary")
    assert (vpc["action"], vpc["moved_from"], vpc["original"], vpc["expected"]) == (
        "replace", "aws_vpc.main", True, False,
    )  # fmt: skip
    assert "cidr_block" in vpc["replace_paths"]
    assert verdict["moves"] == [{"from": "aws_vpc.main", "to": "aws_vpc.primary"}]
    assert verdict["missing"] == []
    assert verdict["counts"]["replace"] >= 1
    assert verdict["originals"]["kept"] < 25
    assert verdict["ok"] is False
