"""The ``tap`` command line: one subcommand per API action, plus ``import`` and ``export``
(docs/cli.md describes every command, message and exit status)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from tap.client import ApiClient, CallFailed
from tap.exporter import run_export, state_path
from tap.importer import Importer, ImportStopped, Summary
from tap.target import resolve

OK: Final = 0
REFUSED: Final = 1
BAD_INPUT: Final = 2
INTERRUPTED: Final = 130
STATUSES: Final = ("pending", "assigned", "completed")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tap", description="Drive the TAP task API.")
    parser.add_argument("--url", help="API URL (default: TAP_API_URL, --stack, or the running make local)")
    parser.add_argument("--api-key", help="API key (default: TAP_API_KEY, --stack, or the running make local)")
    parser.add_argument("--stack", help="read URL and key from this deployed stack (prod, dev, local)")
    parser.add_argument("--region", help="AWS region for signing (default: from the URL, then AWS_REGION)")
    signing = parser.add_mutually_exclusive_group()
    signing.add_argument("--sign", dest="sign", action="store_const", const="always", default="auto",
                         help="always SigV4-sign (default: sign unless the URL is on loopback)")  # fmt: skip
    signing.add_argument("--no-sign", dest="sign", action="store_const", const="never", help="never sign")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def action(command: str, name: str, text: str = "") -> argparse.ArgumentParser:
        subparser = sub.add_parser(command, help=text or name)
        subparser.set_defaults(action=name)
        return subparser

    create = action("create", "create_task")
    create.add_argument("--prompt", required=True)
    create.add_argument("--response", dest="responses", action="append", required=True,
                        help="a candidate response (repeat: 2-8)")  # fmt: skip
    create.add_argument("--kind", choices=("pairwise", "ranking", "rating"))
    create.add_argument("--priority", type=int)
    create.add_argument("--metadata", type=_json_object, help="a JSON object")
    create.add_argument("--client-token")
    action("get", "get_task").add_argument("task_id")
    listing = action("list", "list_tasks", "list_tasks (one page)")
    listing.add_argument("--status", choices=STATUSES, default="pending")
    listing.add_argument("--limit", type=_positive)
    listing.add_argument("--next-token")
    claim = action("claim", "claim_task")
    claim.add_argument("--annotator", dest="annotator_id", metavar="ANNOTATOR", required=True)
    claim.add_argument("--task-id")
    submit = action("submit", "submit_feedback")
    submit.add_argument("task_id")
    submit.add_argument("--annotator", dest="annotator_id", metavar="ANNOTATOR", required=True)
    submit.add_argument("--feedback", type=_json_object, required=True, help="e.g. '{\"preferred\": 1}'")
    release = action("release", "release_task")
    release.add_argument("task_id")
    release.add_argument("--annotator", dest="annotator_id", metavar="ANNOTATOR", required=True)

    importing = sub.add_parser("import", help="create a task per line of a JSONL file (idempotent)")
    importing.add_argument("file", type=Path)
    importing.add_argument("--concurrency", type=_positive, default=8)
    importing.add_argument("--rejects", type=Path, help="where rejected lines go (default: FILE.rejected.jsonl)")
    exporting = sub.add_parser("export", help="write every task of a status as JSONL (resumable)")
    exporting.add_argument("--status", choices=STATUSES, default="completed")
    exporting.add_argument("--output", "-o", type=Path, required=True)
    exporting.add_argument("--page-size", type=_positive, default=100)
    return parser  # fmt: skip


def _action(args: argparse.Namespace) -> dict[str, Any]:
    """The request of an API subcommand: its action and the arguments given."""

    def given(*names: str) -> dict[str, Any]:
        return {name: value for name in names if (value := getattr(args, name, None)) is not None}

    if args.action == "create_task":
        task = given("prompt", "responses", "kind", "priority", "metadata")
        return {"action": args.action, "task": task} | given("client_token")
    return {"action": args.action} | given("task_id", "annotator_id", "status", "limit", "next_token", "feedback")


def _import(client: ApiClient, args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"tap: cannot read {path}: {'no such file' if not path.exists() else 'not a file'}", file=sys.stderr)
        return BAD_INPUT
    rejects = args.rejects or path.with_name(path.name + ".rejected.jsonl")
    summary = Summary()
    try:
        Importer(client, path, rejects, args.concurrency, summary).run()
    except ImportStopped as exc:
        _print_summary(summary, rejects, stopped=True)
        print(f"tap: import stopped: {exc} -- nothing created is lost; re-run to continue", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        _print_summary(summary, rejects, stopped=True)
        print("tap: import interrupted -- re-run the same command to continue (nothing is created twice)",
              file=sys.stderr)  # fmt: skip
        return INTERRUPTED
    _print_summary(summary, rejects, stopped=False)
    return REFUSED if summary.rejected or summary.failed else OK


def _print_summary(summary: Summary, rejects: Path, stopped: bool) -> None:
    for number, reason in sorted(summary.rejected):
        print(f"line {number}: {reason}", file=sys.stderr)
    print(f"{'so far: ' if stopped else ''}{summary.detail()} (of {summary.lines} lines)", file=sys.stderr)
    if summary.rejected:
        print(f"rejected lines written to {rejects}", file=sys.stderr)
    if summary.failed:
        print(f"{summary.failed} lines failed after retries (API busy or unavailable): re-run to retry them",
              file=sys.stderr)  # fmt: skip


def _export(client: ApiClient, args: argparse.Namespace) -> int:
    try:
        written, resumed_from = run_export(client, args.status, args.output, args.page_size)
    except OSError as exc:
        print(f"tap: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print(f"tap: export interrupted -- run the same command again to resume ({state_path(args.output)})",
              file=sys.stderr)  # fmt: skip
        return INTERRUPTED
    resumed = f", resumed after {resumed_from}" if resumed_from else ""
    print(f"exported {written} {args.status} tasks to {args.output}{resumed}", file=sys.stderr)
    return OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Ctrl-C stops an import or export cleanly even when SIGINT was inherited as ignored
    # (a job started in the background), as the resume instructions rely on.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        client = resolve(args.url, args.api_key, args.stack, args.region, args.sign)
        if args.command == "import":
            return _import(client, args)
        if args.command == "export":
            return _export(client, args)
        answer = client.call(_action(args))
    except CallFailed as exc:  # the API's refusal (it has a code), or bad input or set-up
        print(f"tap: {exc.line()}", file=sys.stderr)
        return REFUSED if exc.code else BAD_INPUT
    except KeyboardInterrupt:
        print("tap: interrupted", file=sys.stderr)
        return INTERRUPTED
    try:
        print(json.dumps(answer.body, indent=2, ensure_ascii=False), flush=True)
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped early; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return OK
