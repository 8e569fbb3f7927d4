"""Capacity presets (``TAP_PRESET``): ``original`` keeps the original HCL's sizes, ``scale`` sizes
the stack for 1,000+ concurrent requests (docs/capacity.md). A preset's values are floors: the
explicit settings in ``EXPLICIT`` may raise them, never lower them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from stacks.errors import ConfigError

DEFAULT_PRESET = "original"


@dataclass(frozen=True)
class Sizing:
    """What a preset sets; each field is the ``StackConfig`` field of the same name."""

    preset: str
    api_throttle_rate_limit: float
    api_throttle_burst_limit: int
    #: On-demand (PAY_PER_REQUEST) table and indexes instead of provisioned capacity with autoscaling.
    table_on_demand: bool
    lambda_memory_mb: int
    reserved_concurrency: int | None
    #: The API 4XX alarm fires above this fraction of requests in a minute; None: above 1 answer (the original's).
    api_4xx_alarm_rate: float | None


PRESETS = {
    "original": Sizing(
        preset="original",
        api_throttle_rate_limit=100.0,
        api_throttle_burst_limit=200,
        table_on_demand=False,
        lambda_memory_mb=256,
        reserved_concurrency=None,
        api_4xx_alarm_rate=None,
    ),
    "scale": Sizing(
        preset="scale",
        api_throttle_rate_limit=3000.0,
        api_throttle_burst_limit=1000,
        table_on_demand=True,
        lambda_memory_mb=1024,
        reserved_concurrency=1000,
        api_4xx_alarm_rate=0.05,
    ),
}

#: Settings a preset sets that may also be given explicitly: (variable, ``Sizing`` field, unit).
EXPLICIT = (
    ("TAP_API_THROTTLE_RATE", "api_throttle_rate_limit", "requests/s"),
    ("TAP_API_THROTTLE_BURST", "api_throttle_burst_limit", "requests"),
    ("TAP_LAMBDA_MEMORY_MB", "lambda_memory_mb", "MB"),
    ("TAP_LAMBDA_RESERVED_CONCURRENCY", "reserved_concurrency", "executions"),
)


def _number(name: str, raw: str, whole: bool) -> float:
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = 0
    if not value > 0 or value == float("inf"):
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name}={raw!r} is not {kind} above 0")
    return value


def read_sizing(environ: Mapping[str, str]) -> Sizing:
    """The preset ``TAP_PRESET`` names, raised where an explicit setting asks for more."""
    name = environ.get("TAP_PRESET", "").strip().lower() or DEFAULT_PRESET
    preset = PRESETS.get(name)
    if preset is None:
        raise ConfigError(f"TAP_PRESET={name!r} is not a preset; use one of {', '.join(PRESETS)}")
    values: dict[str, Any] = asdict(preset)
    for variable, field, unit in EXPLICIT:
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        value = _number(variable, raw, whole=field != "api_throttle_rate_limit")
        floor = values[field]
        if floor is not None and value < floor:
            raise ConfigError(
                f"{variable}={raw} contradicts TAP_PRESET={name}, which sets {floor:g} {unit}: "
                "raise it, or choose another preset"
            )
        values[field] = value
    sizing = replace(preset, **values)
    reserved, burst = sizing.reserved_concurrency, sizing.api_throttle_burst_limit
    if reserved is not None and burst > reserved:
        raise ConfigError(
            f"TAP_API_THROTTLE_BURST={burst} exceeds the function's reserved concurrency {reserved} "
            f"(TAP_LAMBDA_RESERVED_CONCURRENCY, TAP_PRESET={name}): the stage would admit more "
            "simultaneous requests than the function may run"
        )
    return sizing
