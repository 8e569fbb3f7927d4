"""The expected-changes data, the synthesized stack and docs/deviations.md tell the same story."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migration import expected as data
from migration.expected import ExpectedDataError, load_expected, render_tables, with_tables


def addresses(stack: dict[str, Any]) -> set[str]:
    return {f"{kind}.{name}" for kind, items in stack["resource"].items() for name in items}


def test_deviations_doc_carries_the_tables_rendered_from_the_data() -> None:
    document = data.DEVIATIONS_DOC.read_text(encoding="utf-8")
    assert with_tables(document, render_tables(load_expected())) == document, (
        "docs/deviations.md is out of date: python -m migration.expected --write"
    )


def test_the_doc_check_fails_when_the_doc_drifts(tmp_path: Path) -> None:
    document = data.DEVIATIONS_DOC.read_text(encoding="utf-8")
    drifted = document.replace("`python3.12` (setting `lambda_runtime`)", "`python3.13`")
    assert drifted != document
    assert with_tables(drifted, render_tables(load_expected())) != drifted
    with pytest.raises(ExpectedDataError, match="no generated section"):
        with_tables("# Deviations\n", "")


def test_every_stack_resource_is_an_original_or_an_expected_addition(
    prod_stack: dict[str, Any], switched_off_stack: dict[str, Any], replica_stack: dict[str, Any]
) -> None:
    expected = load_expected()
    stack = addresses(prod_stack)
    assert set(expected.originals) <= stack, "an original address is missing from the prod stack"
    assert stack - set(expected.originals) <= expected.added, "the stack adds a resource the data does not list"
    replica = addresses(replica_stack)
    assert replica - set(expected.originals) <= expected.added, "the replica adds a resource the data does not list"
    # The optional additions appear with their settings turned the other way (or, for the
    # audit replica, turned on).
    optional = {a for group in expected.additions if group.when for a in group.addresses}
    assert optional & (addresses(switched_off_stack) | stack | replica) == optional
    subscriptions = {"aws_sns_topic_subscription.alarm_email", "aws_sns_topic_subscription.alarm_email_others"}
    assert optional - addresses(switched_off_stack) == optional - subscriptions
    # The test prod stack has one alarm address (its deployable synth needs a destination)
    # and no audit replica.
    assert expected.added - stack - (replica - stack) == {"aws_sns_topic_subscription.alarm_email_others"}
    assert replica - stack, "the replica stack adds resources"


def test_expected_updates_name_resources_of_the_stack_only(tmp_path: Path) -> None:
    broken = tmp_path / "expected.toml"
    broken.write_text(
        '[original]\naddresses = ["aws_vpc.main"]\n'
        '[[update]]\naddresses = ["aws_vpc.other"]\nattributes = ["cidr_block"]\n'
        'original = "a"\nnew = "b"\nwhy = "c"\n'
    )
    with pytest.raises(ExpectedDataError, match=r"aws_vpc\.other is not an original address"):
        load_expected(broken)
    broken.write_text(
        '[original]\naddresses = ["aws_vpc.main"]\n[[added]]\nconcern = "x"\naddresses = ["aws_vpc.main"]\nwhy = "y"\n'
    )
    with pytest.raises(ExpectedDataError, match="listed twice or is an original address"):
        load_expected(broken)
