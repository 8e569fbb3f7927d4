"""The API key rotation's settings, ``TAP_KEY_ROTATION_DAYS`` and ``TAP_KEY_RETIRE_AFTER_HOURS``.

The retirement window must be longer than the handler's key cache time
(``function.contract.KEY_CACHE_TTL_SECONDS``): the old key must work until every container
has read the new one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from function.contract import KEY_CACHE_TTL_SECONDS
from stacks.errors import ConfigError, read_number

#: ``automatically_after_days`` AWS accepts.
ROTATION_DAYS_RANGE = (1, 1000)
#: The longest window: a year (keys would otherwise pile up in the secret).
MAX_RETIRE_AFTER_HOURS = 365 * 24
DEFAULT_ROTATION_DAYS = 30
#: Three days: a scheduled rotation may land on a Friday evening; a caller configured by hand
#: can still be moved on Monday. A leaked superseded key is revoked at once with keyops.
DEFAULT_RETIRE_AFTER_HOURS = 72.0


@dataclass(frozen=True)
class KeyRotation:
    """Rotation every ``days`` days; a superseded key works ``retire_after_hours`` more."""

    days: int = DEFAULT_ROTATION_DAYS
    retire_after_hours: float = DEFAULT_RETIRE_AFTER_HOURS

    @property
    def retire_after_seconds(self) -> int:
        """The window in whole seconds, as the rotation function reads it."""
        return round(self.retire_after_hours * 3600)


def read_key_rotation(environ: Mapping[str, str]) -> KeyRotation:
    """The settings from the environment (defaults where unset); types only, see ``check_key_rotation``."""
    return KeyRotation(
        read_number(environ, "TAP_KEY_ROTATION_DAYS", DEFAULT_ROTATION_DAYS, int, "a whole number of days"),
        read_number(environ, "TAP_KEY_RETIRE_AFTER_HOURS", DEFAULT_RETIRE_AFTER_HOURS, float, "a number of hours"),
    )


def check_key_rotation(env: str, rotation: KeyRotation) -> None:
    """Refuse a schedule AWS would reject and a window no longer than the handler's key cache."""
    low, high = ROTATION_DAYS_RANGE
    if not low <= rotation.days <= high:
        raise ConfigError(f"{env}: TAP_KEY_ROTATION_DAYS={rotation.days} must be {low}-{high}")
    hours = rotation.retire_after_hours
    cache_minutes = KEY_CACHE_TTL_SECONDS / 60
    if not math.isfinite(hours) or hours * 3600 <= KEY_CACHE_TTL_SECONDS:
        raise ConfigError(
            f"{env}: TAP_KEY_RETIRE_AFTER_HOURS={hours:g} must be longer than the handler's key cache time "
            f"({cache_minutes:g} minutes = {KEY_CACHE_TTL_SECONDS / 3600:.3f} h): callers would lose the old key "
            "before every container knows the new one"
        )
    if hours > MAX_RETIRE_AFTER_HOURS:
        raise ConfigError(f"{env}: TAP_KEY_RETIRE_AFTER_HOURS={hours:g} must be at most {MAX_RETIRE_AFTER_HOURS}")
