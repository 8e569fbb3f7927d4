#!/usr/bin/env python3
"""Synthesize one TapStack per environment into ``cdktf.out/stacks/<env>/``.

Settings are checked before the CDKTF libraries load: a bad one fails at once with one line
naming it (exit status 2); settings that work but deserve a look print one warning line each.
``--if-changed`` does nothing when no input changed (``stacks/synth_inputs.py``). ``TAP_CDK``
chooses the CDK library (``stacks/cdk.py``); started by another Python, main.py hands itself
over to cdktn's interpreter.

    TAP_ENVIRONMENTS=prod TAP_STATE_BUCKET=my-state python main.py
    TAP_BACKEND=local python main.py          # every stack, local state files
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from stacks import cdk, synth_inputs
from stacks.config import ConfigError, StackConfig, config_warning, load_config, selected_environments

ROOT = Path(__file__).resolve().parent
FUNCTION_DIR = ROOT / "function"
PACKAGE_PATH = ROOT / "build" / "function.zip"


def synthesize(configs: list[StackConfig], outdir: str | None = None) -> None:
    """Build the Lambda packages once and synthesize a stack per config."""
    # Node 20 still runs jsii correctly; its end-of-life banner would drown the output.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from stacks.cdk import core
    from stacks.package import build_lambda_package, build_rotation_package
    from stacks.tap_stack import ROTATION_DIR, ROTATION_PACKAGE_PATH, TapStack

    package = build_lambda_package(FUNCTION_DIR, PACKAGE_PATH)
    rotation_package = build_rotation_package(ROTATION_DIR, ROTATION_PACKAGE_PATH)
    app = core.App(outdir=outdir) if outdir else core.App()
    for config in configs:
        TapStack(app, config, package, rotation_package)
    app.synth()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesize the TAP stacks into cdktf.out/stacks/<env>/.")
    parser.add_argument(
        "--if-changed", action="store_true", help="do nothing when no input changed since the last synth"
    )
    args = parser.parse_args(argv)
    try:
        library = cdk.selected()
        if python := cdk.handover(library):
            os.execv(python, [str(python), str(Path(__file__).resolve()), *(sys.argv[1:] if argv is None else argv)])
        library.check()
        configs = [load_config(env) for env in selected_environments()]
    except ConfigError as error:
        print(f"tap-stack: config error: {error}", file=sys.stderr)
        return 2
    for warning in filter(None, map(config_warning, configs)):
        print(f"tap-stack: warning: {warning}", file=sys.stderr)
    # The cdktf CLI and local/ set CDKTF_OUTDIR.
    outdir = Path(os.environ.get("CDKTF_OUTDIR") or ROOT / "cdktf.out")
    digest = synth_inputs.fingerprint(ROOT, os.environ)
    if args.if_changed and synth_inputs.is_current(outdir, [c.environment for c in configs], digest):
        print(f"tap-stack: {outdir.name}/ is up to date (no input changed since the last synth); nothing to do")
        return 0
    synth_inputs.forget(outdir)
    synthesize(configs, str(outdir))
    synth_inputs.record(outdir, digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
