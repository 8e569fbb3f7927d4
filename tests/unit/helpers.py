"""What several unit test modules share: the original HCL's resource addresses, the
addresses of a synthesized stack and its ``jsonencode`` documents read back, and a stack
folder's ``terraform validate`` report.

The original ``main.tf`` is not part of the repository; its addresses are data in
``migration/expected_changes.toml`` (checked against a real deployment of it by
tests/migration), ``docs/deviations.md`` records how many resources it had and lists every
resource this stack adds, and test_addresses.py checks this list against both the
document and the synthesized stack.
"""

from __future__ import annotations

import json
import re
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


#: A bare reference inside a jsonencode expression (inside strings they are ``${...}``).
_REFERENCE = re.compile(r"(?<![\"\w$.{])((?:aws_[a-z0-9_]+|var)\.[a-z0-9_]+(?:\.[a-z_]+)?)")


def jsonencoded(expression: str) -> dict[str, Any]:
    """A ``${jsonencode({...})}`` document (a policy, the dashboard body) as JSON, references
    kept as ``${...}`` strings: what the document looked like as JSON text."""
    body = expression.removeprefix("${jsonencode(").removesuffix(")}")
    body = _REFERENCE.sub(r'"${\1}"', body).replace('" = ', '": ')
    return dict(json.loads(body))


def validation_report(stack_dir: Path) -> dict[str, Any]:
    """``terraform validate -json`` of a synthesized stack folder, after an offline ``init``."""
    init = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, timeout=300)
    assert init.returncode == 0, init.stdout
    validated = run_terraform(["validate", "-json", "-no-color"], stack_dir, timeout=300)
    report: dict[str, Any] = json.loads(validated.stdout)
    return report
