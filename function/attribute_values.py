"""DynamoDB attribute values <-> plain Python values, for the types the handler stores (strings,
integers, booleans, None, lists and string-keyed maps; numbers come back as ``int`` when
integral, else ``float``). Written out because boto3's ``TypeSerializer`` loads boto3 and
s3transfer, most of a cold start's import time (docs/benchmarks.md, "Task API handler").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

# DynamoDB numbers carry at most 38 significant digits.
_MAX_DIGITS = 38


def serialize(value: Any) -> dict[str, Any]:
    """One plain value -> its attribute value; ``TypeError`` for anything else."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: bool is an int subclass
        return {"BOOL": value}
    if isinstance(value, int):
        if len(str(abs(value))) > _MAX_DIGITS:
            raise TypeError(f"DynamoDB cannot store the number {value}")
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(item) for item in value]}
    if isinstance(value, Mapping):
        return {"M": {_key(key): serialize(item) for key, item in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def deserialize(attribute: Mapping[str, Any]) -> Any:
    """One attribute value -> its plain value; ``TypeError`` for types the handler never stores."""
    if len(attribute) != 1:
        raise TypeError(f"an attribute value has exactly one type (got {sorted(attribute)})")
    ((kind, raw),) = attribute.items()
    match kind:
        case "S" | "BOOL":
            return raw
        case "NULL":
            return None
        case "N":
            number = Decimal(raw)
            return int(number) if number == number.to_integral_value() else float(number)
        case "L":
            return [deserialize(item) for item in raw]
        case "M":
            return {key: deserialize(item) for key, item in raw.items()}
        case _:
            raise TypeError(f"the handler does not read DynamoDB type {kind!r}")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"DynamoDB map keys are strings (got {type(key).__name__})")
    return key
