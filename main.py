#!/usr/bin/env python3
"""Synthesize one TapStack per environment into ``cdktf.out/stacks/<env>/``.

Settings are read and checked before the CDKTF libraries load, so a bad one fails in
well under a second with a single line naming it (exit status 2).

    TAP_ENVIRONMENTS=prod TAP_STATE_BUCKET=my-state python main.py
    TAP_BACKEND=local python main.py          # every stack, local state files
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stacks.config import ConfigError, StackConfig, load_config, selected_environments  # noqa: F401 (load_config: for tools)

ROOT = Path(__file__).resolve().parent
FUNCTION_DIR = ROOT / "function"
PACKAGE_PATH = ROOT / "build" / "function.zip"


def configs_from_environment() -> list[StackConfig]:
    """Validated settings of every selected environment, or a one-line ConfigError."""
    return [load_config(env) for env in selected_environments()]


def synthesize(configs: list[StackConfig], outdir: str | None = None) -> None:
    """Build the Lambda package once and synthesize a stack per config."""
    # Node 20 still runs jsii correctly; its end-of-life banner would drown the output.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from cdktf import App

    from stacks.package import build_lambda_package
    from stacks.tap_stack import TapStack

    package = build_lambda_package(FUNCTION_DIR, PACKAGE_PATH)
    app = App(outdir=outdir) if outdir else App()
    for config in configs:
        TapStack(app, config, package)
    app.synth()


def main() -> int:
    try:
        configs = configs_from_environment()
    except ConfigError as error:
        print(f"tap-stack: config error: {error}", file=sys.stderr)
        return 2
    synthesize(configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
