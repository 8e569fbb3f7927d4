"""What the operator commands (``python -m rollout``, ``restore``, ``keyops``, ``backfill``) share:
the flags naming the deployed stack (``--env``, ``--stack-dir``, ``--endpoint``), that stack's
Terraform outputs and boto3 clients (the ``local`` stack's emulator, or AWS), and the one line on
stderr, with exit status 2, for whatever stops a command before it changes anything.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workspace import clients
from workspace.deployed import OutputsUnavailable, stack_dir, stack_outputs
from workspace.loopback import emulator_endpoint
from workspace.paths import shown

EXIT_REFUSED = 2


class CommandError(RuntimeError):
    """An operator command cannot go on; the message is one line saying why and what to do."""


#: What stops a command: its own refusal, an error AWS answers, AWS out of reach.
STOPS = (CommandError, ClientError, BotoCoreError)


def stack_parser(prog: str, description: str, environments: Sequence[str], names: str) -> argparse.ArgumentParser:
    """A command line with ``--env``, ``--stack-dir`` (whose outputs name ``names``) and ``--endpoint``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--env", choices=environments, default="prod", help="the deployed stack (default prod)")
    parser.add_argument("--stack-dir", help=f"the stack folder whose Terraform outputs name {names}")
    parser.add_argument("--endpoint", help="the emulator of the local stack (default TAP_EMULATOR_ENDPOINT)")
    return parser


@dataclass(frozen=True)
class Stack:
    """A deployed stack: the folder it was applied from and its emulator (None: AWS)."""

    directory: Path
    endpoint: str | None

    def outputs(self, instead: str) -> dict[str, Any]:
        """``terraform output -json`` of the stack; the error ends with what to pass ``instead``."""
        try:
            return stack_outputs(self.directory, self.endpoint)
        except OutputsUnavailable as exc:
            raise CommandError(f"{exc}, or {instead}") from None

    def output(self, name: str, instead: str) -> str:
        """One output, which must be there."""
        value = self.outputs(instead).get(name)
        if not value:
            raise CommandError(f"the stack in {shown(self.directory)} has no output {name}: {instead}")
        return str(value)

    def client(self, service: str) -> Any:
        """The emulator's client, or AWS's with the caller's credentials and ``AWS_REGION`` (default us-west-2)."""
        if self.endpoint:
            return clients.client(service, self.endpoint)
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or clients.REGION
        return boto3.session.Session(region_name=region).client(service)  # type: ignore[call-overload]  # stubs type each service by a literal name


def deployed(args: argparse.Namespace) -> Stack:
    """The stack the flags of :func:`stack_parser` name; ``--endpoint`` and ``TAP_EMULATOR_ENDPOINT``
    count for ``--env local`` only, and must be loopback."""
    directory = Path(args.stack_dir) if args.stack_dir else stack_dir(args.env)
    if args.env != "local":
        if args.endpoint:
            raise CommandError(f"--endpoint is for the local stack only, not {args.env}")
        return Stack(directory, None)
    environ = dict(os.environ, TAP_EMULATOR_ENDPOINT=args.endpoint) if args.endpoint else os.environ
    try:
        return Stack(directory, emulator_endpoint(environ))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def refuse(prog: str, exc: Exception) -> int:
    """Say on stderr, in one line, why ``exc`` (one of :data:`STOPS`) stopped ``prog``; exit status 2."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        why = f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
    elif isinstance(exc, BotoCoreError):
        why = f"AWS out of reach: {exc}"
    else:
        why = str(exc)
    print(f"{prog}: {why}", file=sys.stderr)
    return EXIT_REFUSED
