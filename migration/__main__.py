"""``python -m migration check|adopt|prove``: the command line of the migration package.

Exit status: 0 the move is safe, 1 it is not, 2 no verdict (docs/migration.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields
from pathlib import Path

from migration import commands
from migration.errors import CannotJudge
from migration.prove import prove


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m migration", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--env", default="prod", help="stack to move to: prod, dev or local (default prod)")
        p.add_argument("--stack-dir", type=Path, help="plan this synthesized stack folder instead of synthesizing")
        p.add_argument("--emulator", metavar="URL", help="AWS emulator on loopback to plan against (prove, tests)")
        p.add_argument("--plan-out", type=Path, help="where to save the plan JSON (default .migration/ENV.plan.json)")
        p.add_argument("--json", action="store_true", dest="as_json", help="print the verdict as JSON")
        p.add_argument("-v", "--verbose", action="store_true", help="list every changed value and addition")

    check = sub.add_parser("check", help="plan the stack against the deployment's state and judge the plan")
    common(check)
    check.add_argument("--from-state", metavar="FILE|s3://BUCKET/KEY", help="a state to plan against (a copy is used)")
    adopt = sub.add_parser("adopt", help="check, back the state up, write it to the stack's backend, check again")
    common(adopt)
    adopt.add_argument("--from-state", metavar="FILE|s3://BUCKET/KEY", required=True, help="the state to move")
    adopt.add_argument("--force", action="store_true", help="replace a backend state that holds resources")
    adopt.add_argument("--backup-dir", type=Path, help="where backups go (default .migration/backups)")
    prove = sub.add_parser("prove", help="deploy the original HCL to the emulator, adopt its state, check")
    prove.add_argument("--original", type=Path, required=True, help="folder of the original HCL (its main.tf)")
    prove.add_argument("--stack-dir", type=Path, help="use this synthesized prod stack instead of synthesizing")
    prove.add_argument("--keep", action="store_true", help="keep the temp folder (state, plans, backups)")
    prove.add_argument("-v", "--verbose", action="store_true", help="list every changed value and addition")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    given = {f.name: getattr(args, f.name) for f in fields(commands.Options) if hasattr(args, f.name)}
    options = commands.Options(**given, environ=dict(os.environ))
    try:
        if args.command == "check":
            return commands.check(options, sys.stdout)
        if args.command == "adopt":
            return commands.adopt(options, sys.stdout)[0]
        return prove(args.original, options, sys.stdout, keep=args.keep)
    except CannotJudge as exc:
        if options.as_json:
            print(json.dumps({"ok": False, "error": exc.what, "todo": exc.todo}))
        print(f"error: {exc.what}; what to do: {exc.todo}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; what to do: run the command again (nothing was written)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
