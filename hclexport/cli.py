"""The ``python -m hclexport`` command line (``make hcl STACK=prod``).

    python -m hclexport --env prod            # cdktf.out/hcl/prod/main.tf and its assets/
    python -m hclexport --env prod --env dev  # several stacks, one render

Settings are the ``TAP_*`` variables main.py reads (the backend, the state bucket, …): the
HCL holds what ``make synth`` would synthesize with them. Exit status: 0 written; 1 the
render or a rule failed (nothing of that stack replaced); 2 an unknown stack or a bad
setting, one line on stderr and nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hclexport.render import HCL_FILE, ExportFailed, export
from hclexport.rules import RendererChanged
from stacks.config import ENVIRONMENTS, ConfigError, config_warning, load_config
from workspace.paths import shown
from workspace.terraform import TerraformMissing


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hclexport", description="Write stacks as plain Terraform HCL.")
    p.add_argument("--env", action="append", help="a stack to write (prod, dev or local; repeatable; default prod)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    envs = list(dict.fromkeys(parser().parse_args(argv).env or ["prod"]))
    unknown = [env for env in envs if env not in ENVIRONMENTS]
    if unknown:
        print(f"hcl: unknown stack {unknown[0]!r}; known stacks: {', '.join(ENVIRONMENTS)}", file=sys.stderr)
        return 2
    try:
        configs = [load_config(env) for env in envs]
    except ConfigError as error:
        print(f"hcl: config error: {error}", file=sys.stderr)
        return 2
    for warning in filter(None, map(config_warning, configs)):
        print(f"hcl: warning: {warning}", file=sys.stderr)
    try:
        written = export(envs, os.environ)
    except (ExportFailed, RendererChanged, TerraformMissing) as error:
        details = getattr(error, "details", "")
        print(f"hcl: {error}" + (f"\n{details}" if details else ""), file=sys.stderr)
        return 1
    for item in written:
        folder = shown(item.folder)
        print(
            f"hcl: {folder}/{HCL_FILE}: the {item.env} stack, {item.resources} resources, {item.backend} backend; "
            f"assets/: {item.assets} Lambda zip(s). Next: terraform -chdir={folder} init"
        )
    return 0
