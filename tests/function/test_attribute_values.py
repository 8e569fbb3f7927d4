"""The handler's attribute-value codec agrees with boto3's for every value the handler stores,
and the Lambda package no longer imports boto3 at all."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from function import attribute_values

PROJECT = Path(__file__).resolve().parents[2]

# What the handler stores: text, integers (DynamoDB's 38 digits), flags, nothing, lists and maps.
_SCALARS = st.none() | st.booleans() | st.text() | st.integers(min_value=-(10**37), max_value=10**37)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _boto3_plain(value: Any) -> Any:
    """boto3 hands numbers back as Decimal; the handler wants int (or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_boto3_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _boto3_plain(item) for key, item in value.items()}
    return value


@given(_VALUES)
def test_serializes_like_boto3(value: Any) -> None:
    assert attribute_values.serialize(value) == TypeSerializer().serialize(value)


@given(_VALUES)
def test_round_trips_like_boto3(value: Any) -> None:
    stored = TypeSerializer().serialize(value)
    assert attribute_values.deserialize(stored) == _boto3_plain(TypeDeserializer().deserialize(stored))
    assert attribute_values.deserialize(attribute_values.serialize(value)) == value


def test_tuples_are_lists_and_fractions_are_floats() -> None:
    assert attribute_values.serialize((2, 0, 1)) == {"L": [{"N": "2"}, {"N": "0"}, {"N": "1"}]}
    assert attribute_values.deserialize({"N": "2.5"}) == 2.5
    assert attribute_values.deserialize({"N": "3.0"}) == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "cannot store a float"),
        ({1: "x"}, "map keys are strings"),
        (10**40 + 1, "cannot store the number"),
        (Decimal("1.5"), "cannot store a Decimal"),
        ({"a"}, "cannot store a set"),
    ],
)
def test_values_the_handler_never_stores_are_refused(value: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        attribute_values.serialize(value)


@pytest.mark.parametrize("attribute", [{"SS": ["a"]}, {"B": b"x"}, {"S": "a", "N": "1"}, {}])
def test_types_the_handler_never_stores_are_refused(attribute: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        attribute_values.deserialize(attribute)


def test_the_handler_imports_without_boto3() -> None:
    """boto3 (and s3transfer under it) is most of a cold import; the handler needs botocore only."""
    probe = (
        "import sys, function.handler\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 's3transfer')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
