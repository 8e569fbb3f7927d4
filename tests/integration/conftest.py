"""Integration tests: the local platform (emulator, Terraform, API server) end to end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `local/` is imported from the project root whichever way pytest was started.
_PROJECT = str(Path(__file__).resolve().parents[2])
if _PROJECT not in sys.path:
    sys.path.insert(0, _PROJECT)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: deploys the whole stack to the local emulator and calls it over HTTP (minutes)"
    )
