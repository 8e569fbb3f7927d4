"""Which AWS provider bindings a process loaded (``stacks/lazy_provider.py`` loads them on demand)."""

from __future__ import annotations

import sys

from stacks import cdk


def loaded_resource_modules() -> set[str]:
    """The provider's resource modules (``vpc``, ``dynamodb_table`` …) this process has imported."""
    prefix = f"{cdk.selected().bindings}."
    return {name[len(prefix) :].split(".")[0] for name in sys.modules if name.startswith(prefix)} - {"_jsii"}
