"""The one error a bad setting raises, shared by the settings modules (no cdktf import)."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line naming it."""
