"""The ``python -m rollout`` command line (``make rollout STACK=prod``).

Exit status: 0 the rollout started (with ``--wait``: it succeeded), or ``live`` already
serves that version; 1 the deployment failed, was stopped (rolled back) or did not end
within ``--wait-timeout``; 2 nothing was started: bad input, another deployment of the group
in progress, a version that does not exist, or AWS out of reach (one line on stderr).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from rollout import deploy
from rollout.targets import RolloutError, resolve
from stacks.config import ENVIRONMENTS
from workspace.operator_cli import STOPS, deployed, refuse, stack_parser

EXIT_FAILED = 1


def parser() -> argparse.ArgumentParser:
    description = "Shift the function's live alias to a published version through CodeDeploy (docs/rollout.md)."
    p = stack_parser("python -m rollout", description, ENVIRONMENTS, "the targets")
    p.add_argument("--version", type=int, help="the version to roll out (default: the latest published)")
    p.add_argument("--wait", action="store_true", help="follow the deployment until it ends, one line per change")
    p.add_argument("--wait-timeout", type=float, default=3600.0, help="seconds --wait follows it (default 3600)")
    p.add_argument("--poll-seconds", type=float, default=5.0, help="seconds between two looks (default 5)")
    for name, output in (
        ("function", "lambda_function_name"),
        ("alias", "lambda_alias_name"),
        ("app", "codedeploy_app_name"),
        ("group", "codedeploy_deployment_group_name"),
    ):
        p.add_argument(f"--{name}", help=f"instead of the output {output}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except deploy.AlreadyLive as done:
        print(f"rollout: {done}")
        return 0
    except STOPS as exc:
        return refuse("rollout", exc)


def _run(args: argparse.Namespace) -> int:
    if args.version is not None and args.version < 1:
        raise RolloutError(f"--version {args.version}: versions are numbered from 1")
    stack = deployed(args)
    flags = {"function": args.function, "alias": args.alias, "app": args.app, "group": args.group}
    outputs = None
    if not all(flags.values()):
        outputs = stack.outputs("name the targets with --function, --app and --group")
    target = resolve(outputs, flags)
    lambda_client, codedeploy = stack.client("lambda"), stack.client("codedeploy")
    rollout = deploy.plan(lambda_client, codedeploy, target, args.version)
    group = codedeploy.get_deployment_group(applicationName=target.app, deploymentGroupName=target.group)
    config = group["deploymentGroupInfo"].get("deploymentConfigName", "?")
    deployment_id = deploy.start(codedeploy, rollout)
    print(
        f"rollout: deployment {deployment_id} created: {target.function}:{target.alias} "
        f"version {rollout.current} -> {rollout.version} by {config} ({target.app}/{target.group})"
    )
    if not args.wait:
        print(f"rollout: follow it with: aws deploy get-deployment --deployment-id {deployment_id}")
        return 0
    return _follow(lambda_client, codedeploy, rollout, deployment_id, args)


def _follow(
    lambda_client: Any, codedeploy: Any, rollout: deploy.Plan, deployment_id: str, args: argparse.Namespace
) -> int:
    started = time.monotonic()
    status = "?"
    for status, traffic in deploy.watch(
        lambda_client,
        codedeploy,
        rollout,
        deployment_id,
        poll_seconds=args.poll_seconds,
        timeout_seconds=args.wait_timeout,
    ):
        print(f"rollout: {time.monotonic() - started:7.1f} s  {status:<10} live: {traffic}", flush=True)
    if status == "Succeeded":
        print(f"rollout: {rollout.target.alias} now serves version {rollout.version}")
        return 0
    if status in deploy.DONE_STATUSES:
        print(f"rollout: deployment {deployment_id} {status}: {deploy.failure(codedeploy, deployment_id)}")
        return EXIT_FAILED
    print(
        f"rollout: deployment {deployment_id} is still {status} after {args.wait_timeout:g} s; it goes on "
        f"(aws deploy get-deployment --deployment-id {deployment_id})"
    )
    return EXIT_FAILED
