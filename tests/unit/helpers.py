"""What several unit test modules share: the original HCL's resource addresses and
the addresses of a synthesized stack.

The original ``main.tf`` is not part of the repository; its addresses are data in
``migration/expected_changes.toml`` (checked against a real deployment of it by
tests/migration), ``docs/deviations.md`` records how many resources it had and lists every
resource this stack adds, and test_addresses.py checks this list against both the
document and the synthesized stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migration.expected import load_expected
from workspace.terraform import run_terraform

#: The resource addresses of the original HCL deployment (kept with the expected changes of a move).
ORIGINAL_ADDRESSES = load_expected().originals


def addresses(stack: dict[str, Any]) -> list[str]:
    """Every resource address (``type.name``) of a synthesized stack."""
    return [f"{kind}.{name}" for kind, block in stack.get("resource", {}).items() for name in block]


def imported_modules(importtime_report: str) -> set[str]:
    """The top-level modules a ``python -X importtime`` run imported, from its stderr."""
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in importtime_report.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def validation_report(stack_dir: Path) -> dict[str, Any]:
    """``terraform validate -json`` of a synthesized stack folder, after an offline ``init``."""
    init = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, timeout=300)
    assert init.returncode == 0, init.stdout
    validated = run_terraform(["validate", "-json", "-no-color"], stack_dir, timeout=300)
    report: dict[str, Any] = json.loads(validated.stdout)
    return report
