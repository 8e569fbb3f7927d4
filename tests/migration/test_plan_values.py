"""How the migration judge renders a planned change's values: sensitive ones never in clear."""

from __future__ import annotations

from typing import Any

from migration.judge import SENSITIVE, Detail, changed_attributes


def _change(before_sensitive: Any, after_sensitive: Any) -> dict[str, Any]:
    return {
        "before": {"tags": {"Owner": "s1"}, "name": "a"},
        "after": {"tags": {"Owner": "s2"}, "name": "b"},
        "after_unknown": {},
        "before_sensitive": before_sensitive,
        "after_sensitive": after_sensitive,
    }


def test_values_nobody_marked_are_shown() -> None:
    assert changed_attributes(_change({}, {})) == {
        "name": (Detail("name", '"a"', '"b"'),),
        "tags": (Detail("tags.Owner", '"s1"', '"s2"'),),
    }


def test_a_map_marked_sensitive_as_a_whole_hides_each_value_in_it() -> None:
    for marks in (({"tags": True}, {}), ({}, {"tags": True})):
        shown = changed_attributes(_change(*marks))
        assert shown["tags"] == (Detail("tags.Owner", SENSITIVE, SENSITIVE),)
        assert shown["name"] == (Detail("name", '"a"', '"b"'),)


def test_a_value_either_side_marks_is_hidden_when_the_two_trees_differ_in_shape() -> None:
    shown = changed_attributes(_change({"tags": False}, {"tags": {"Owner": True}}))
    assert shown["tags"] == (Detail("tags.Owner", SENSITIVE, SENSITIVE),)
