"""The check before any plan: the state's resource addresses against the synthesized stack's
(its ``resource`` blocks and CDKTF's ``moved`` blocks), and the verdict it gives alone.

No Terraform and no emulator: these run in ``make test-fast`` too. The real plans are in
test_renames.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migration.addresses import Move, StackAddresses, compare, read_stack, resource_address, stack_addresses
from migration.errors import CannotJudge
from migration.expected import load_expected
from migration.judge import judge
from migration.report import json_report, text_report

STACK = StackAddresses(frozenset({"aws_vpc.primary", "aws_subnet.private", "aws_iam_role.lambda_exec"}), ())


def test_an_address_the_stack_no_longer_declares_is_missing() -> None:
    compared = compare(("aws_vpc.main", "aws_subnet.private", "aws_iam_role.lambda_exec"), STACK)
    assert compared.missing == ("aws_vpc.main",)
    assert compared.moves == ()


def test_a_moved_block_keeps_the_address_it_moves_from() -> None:
    stack = StackAddresses(STACK.resources, (Move("aws_vpc.main", "aws_vpc.primary"),))
    compared = compare(("aws_vpc.main", "aws_subnet.private"), stack)
    assert compared.missing == ()
    assert compared.moves == (Move("aws_vpc.main", "aws_vpc.primary"),)
    assert str(compared.moves[0]) == "aws_vpc.main -> aws_vpc.primary"


def test_moves_are_followed_in_a_chain_and_a_move_to_nothing_keeps_nothing() -> None:
    chain = (Move("aws_vpc.main", "aws_vpc.second"), Move("aws_vpc.second", "aws_vpc.primary"))
    assert compare(("aws_vpc.main",), StackAddresses(STACK.resources, chain)).moves == (
        Move("aws_vpc.main", "aws_vpc.primary"),
    )
    nowhere = StackAddresses(STACK.resources, (Move("aws_vpc.main", "aws_vpc.gone"),))
    assert compare(("aws_vpc.main",), nowhere).missing == ("aws_vpc.main",)
    loop = StackAddresses(STACK.resources, (Move("aws_vpc.a", "aws_vpc.b"), Move("aws_vpc.b", "aws_vpc.a")))
    assert compare(("aws_vpc.a",), loop).missing == ("aws_vpc.a",)


def test_instance_keys_count_as_their_resource() -> None:
    assert resource_address('aws_subnet.private["a"]') == "aws_subnet.private"
    assert resource_address('aws_s3_object.file["x[1]"]') == "aws_s3_object.file"  # a key holding brackets
    assert resource_address('aws_s3_object.file["a\\"]"]') == "aws_s3_object.file"  # and an escaped quote
    assert compare(("aws_subnet.private[0]", "aws_subnet.private[1]", "aws_subnet.public[0]"), STACK).missing == (
        "aws_subnet.public",
    )


def test_the_moved_block_cdktf_synthesizes_is_read_as_a_move(cdktf_vpc_move: list[dict[str, str]]) -> None:
    assert cdktf_vpc_move == [{"from": "aws_vpc.main", "to": "aws_vpc.primary"}]
    read = stack_addresses({"resource": {"aws_vpc": {"primary": {}}}, "moved": cdktf_vpc_move})
    assert read == StackAddresses(frozenset({"aws_vpc.primary"}), (Move("aws_vpc.main", "aws_vpc.primary"),))


def test_the_real_prod_stack_declares_every_original_address(prod_stack_dir: Path) -> None:
    stack = read_stack(prod_stack_dir)
    compared = compare(load_expected().originals, stack)
    assert (compared.missing, compared.moves, stack.moves) == ((), (), ())


def test_a_folder_without_a_synthesized_stack_cannot_be_judged(tmp_path: Path) -> None:
    with pytest.raises(CannotJudge, match=r"holds no cdk\.tf\.json"):
        read_stack(tmp_path)
    (tmp_path / "cdk.tf.json").write_text("{half", encoding="utf-8")
    with pytest.raises(CannotJudge, match="cannot read"):
        read_stack(tmp_path)


def test_without_a_plan_the_missing_address_alone_fails_the_verdict() -> None:
    expected = load_expected()
    in_state = frozenset(expected.originals)
    compared = compare(tuple(in_state), StackAddresses(frozenset(in_state - {"aws_vpc.main"}), ()))
    verdict = judge(None, expected, in_state, compared, "terraform plan failed: Cycle: aws_subnet.private_a")
    assert not verdict.ok
    assert verdict.originals_kept == len(expected.originals) - 1
    report = text_report(verdict, ["check: header"]).splitlines()
    assert "NOT OK    in your state, not in the stack: aws_vpc.main (renamed or removed?)" in report
    assert "not planned: terraform plan failed: Cycle: aws_subnet.private_a" in report
    assert report[-2] == "verdict: NOT safe to move: 1 resource(s) of the state not in the stack"
    assert report[-1] == (
        f"migration: {len(expected.originals) - 1}/{len(expected.originals)} original resources kept, "
        "1 in the state but not in the stack; not planned (terraform could not plan)"
    )
    data: dict[str, Any] = json.loads(json.dumps(json_report(verdict, {})))
    assert (data["ok"], data["missing"], data["moves"]) == (False, ["aws_vpc.main"], [])
    assert data["plan_error"].startswith("terraform plan failed: Cycle")
