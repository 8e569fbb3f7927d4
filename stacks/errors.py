"""The one error a bad setting raises, and the reading of a numeric setting, shared by the settings
modules (no cdktf import)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

Number = TypeVar("Number", int, float)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line naming it."""


def read_number(
    environ: Mapping[str, str], name: str, default: Number, parse: Callable[[str], Number], what: str
) -> Number:
    """Setting ``name`` parsed (``default`` when unset or empty); a ConfigError "<name>=<raw> is not <what>"."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not {what}") from None
