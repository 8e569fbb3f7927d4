"""``make local``: run the whole platform on this machine, with no AWS account.

Starts (or reuses) the mended emulator, deploys the ``local`` stack to it with Terraform,
stores a fresh API key and serves the API, calling the real handler in-process; the steps
are ``deploy_steps`` below. Ctrl-C stops the API server only; the emulator and the deployed
stack stay up for the next ``make local``. ``make local-down`` destroys and stops everything.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from functools import partial
from typing import Any

from local import deploy, serving
from local import session as sessions
from local.api_server import handler_environment
from local.paths import LocalPaths, local_paths
from local.progress import Progress, StepFailed
from local.session import Session, StackOutputs
from workspace import emulator, processes
from workspace.deployed import OutputsUnavailable, stack_outputs
from workspace.loopback import DEFAULT_EMULATOR_PORT
from workspace.paths import PROJECT, shown

DEFAULT_API_PORT = 8080
#: Deploy steps; serving the API is one more.
DEPLOY_STEPS = 7
_PORTS = range(1, 65536)


def _port(source: str, text: str) -> int:
    if not text.isdigit() or int(text) not in _PORTS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (given by {source})")
    return int(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.up", description="Run the whole platform on this machine.")
    for flag, variable, fallback, what in (
        ("--port", "TAP_EMULATOR_PORT", DEFAULT_EMULATOR_PORT, "emulator"),
        ("--api-port", "TAP_API_PORT", DEFAULT_API_PORT, "API server"),
    ):
        default = os.environ.get(variable, "").strip() or str(fallback)
        port = partial(_port, f"{flag} or {variable}")
        parser.add_argument(flag, type=port, default=default, help=f"{what} port (default {variable} or %(default)s)")
    parser.add_argument("--no-serve", action="store_true", help="deploy and store the key, then return")
    parser.add_argument("--fresh", action="store_true", help="stop a running emulator and deploy from scratch")
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="skip the deploy: serve the deployment make local made last (after a Ctrl-C, say)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each API request")
    return parser.parse_args(argv)


def check_prerequisites(paths: LocalPaths, args: argparse.Namespace) -> None:
    deploy.terraform_cli()
    handler = PROJECT / "function" / "handler.py"
    if not handler.is_file():
        raise StepFailed(f"{shown(handler)} is missing", "run from a complete checkout of the project")
    if args.port == args.api_port:
        raise StepFailed("the emulator and the API would share one port", "pick different --port and --api-port")
    if not args.no_serve and not processes.port_bindable(args.api_port):
        holder = serving.serving_pid(paths)
        who = f" by an earlier make local still serving (pid {holder[0]})" if holder else " by another program"
        raise StepFailed(
            f"API port {args.api_port} on 127.0.0.1 is already in use{who}",
            "stop it (Ctrl-C in its terminal), or serve elsewhere: make local TAP_API_PORT=8081",
        )


def start_or_reuse_emulator(paths: LocalPaths, port: int, fresh: bool, notes: list[str]) -> emulator.RunningEmulator:
    found = emulator.find(paths)
    if found and not fresh and found.port == port and emulator.answers(port):
        notes.append(f"reused pid {found.pid} on {found.endpoint}")
        return found
    try:
        if found:
            reason = (
                "--fresh" if fresh else (f"it ran on port {found.port}" if found.port != port else "it did not answer")
            )
            emulator.stop(paths)
            notes.append(f"stopped the previous emulator (pid {found.pid}: {reason})")
        else:
            paths.emulator_pid.unlink(missing_ok=True)  # stale: its process is gone
        started = emulator.start(port, paths)
    except emulator.EmulatorError as exc:
        raise StepFailed.from_report(str(exc)) from None
    notes.append(f"pid {started.pid} on {started.endpoint}, log {shown(paths.emulator_log)}")
    return started


def create_state_bucket(running: emulator.RunningEmulator) -> str:
    try:
        created = emulator.ensure_state_bucket(running.endpoint)
    except Exception as exc:  # botocore's many error types: all mean the emulator misbehaves
        raise StepFailed(
            f"the emulator did not accept the state bucket: {exc}",
            "restart it: make local-down && make local",
        ) from None
    return ("created " if created else "exists: ") + f"s3://{emulator.STATE_BUCKET}"


def store_api_key(args: argparse.Namespace, running: emulator.RunningEmulator, outputs: StackOutputs) -> Session:
    """Put a fresh key into the deployed secret; the session of this deployment, from the
    function's configuration as the emulator reports it."""
    key = secrets.token_urlsafe(32)
    try:
        running.client("secretsmanager").put_secret_value(
            SecretId=outputs.api_key_secret_arn, SecretString=json.dumps({"api_keys": [key]})
        )
        config: dict[str, Any] = running.client("lambda").get_function_configuration(
            FunctionName=outputs.lambda_function_name
        )
    except Exception as exc:  # botocore's many error types: all mean the emulator refused
        raise StepFailed(f"the emulator refused: {exc}", "re-run make local; if it persists: make local-down") from None
    function_env = (config.get("Environment") or {}).get("Variables") or {}
    return Session(
        api_port=args.api_port,
        api_key=key,
        emulator_port=running.port,
        function_name=str(config["FunctionName"]),
        timeout_seconds=float(config["Timeout"]),
        memory_mb=int(config["MemorySize"]),
        stage=outputs.stage,
        handler_env=handler_environment(function_env, running.endpoint),
        outputs=outputs,
        deployed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def deploy_steps(args: argparse.Namespace, paths: LocalPaths, progress: Progress) -> Session:
    """Steps 1-7: from nothing (or a running emulator) to a deployed stack with a fresh key."""
    with progress.step("checking terraform and ports"):
        check_prerequisites(paths, args)
    with progress.step("starting the emulator") as notes:
        running = start_or_reuse_emulator(paths, args.port, args.fresh, notes)
    with progress.step("creating the state bucket") as notes:
        notes.append(create_state_bucket(running))
    with progress.step("synthesizing the local stack") as notes:
        notes.append(shown(deploy.synthesize(running.endpoint, paths)))
    with progress.step("terraform init"):
        deploy.terraform(paths, "init")
    with progress.step(f"terraform apply (log: {shown(paths.log('terraform-apply'))})") as notes:
        notes.append(deploy.terraform(paths, "apply"))
    with progress.step("storing a fresh API key") as notes:
        try:
            outputs = StackOutputs.from_values(stack_outputs(paths.stack_dir, running.endpoint))
        except (OutputsUnavailable, ValueError) as exc:  # SessionError too: an output is missing
            raise StepFailed(
                str(exc), "the local platform needs these outputs of the stack (docs/local.md); run make local again"
            ) from None
        session = store_api_key(args, running, outputs)
        notes.append(f"secret {outputs.api_key_secret_arn.rsplit(':', 1)[-1]}")
    sessions.write(paths, session)
    return session


def up(args: argparse.Namespace, paths: LocalPaths) -> int:
    progress = Progress(DEPLOY_STEPS if args.no_serve else DEPLOY_STEPS + 1)
    started = time.monotonic()
    try:
        session = deploy_steps(args, paths, progress)
        if args.no_serve:
            print(f"\nlocal stack deployed in {time.monotonic() - started:.1f} s; emulator at {session.endpoint}")
            print(f"API key:  {session.api_key}   (also in {shown(paths.session)})")
            print("serve it: python -m local.up --serve-only   |   destroy: make local-down")
            return 0
        with progress.step("starting the API server"):
            server = serving.build_server(session, quiet=args.quiet)
    except (StepFailed, KeyboardInterrupt) as exc:
        resume = "run make local again to carry on, or make local-down to remove everything."
        return progress.failed(exc, f". The emulator keeps running; {resume}")

    serving.announce(paths, session, time.monotonic() - started)
    serving.serve(paths, server)
    print(
        "\nAPI server stopped. The emulator and the deployed stack are still running "
        f"({session.endpoint}); make local serves again quickly, make local-down removes everything.",
        flush=True,
    )
    return 0


def serve_only(args: argparse.Namespace, paths: LocalPaths) -> int:
    """Serve the API again for a deployment that is still up (no Terraform)."""
    recorded = sessions.read(paths)
    running = emulator.find(paths)
    try:
        if recorded is None or running is None or running.port != recorded.emulator_port:
            why = "no running local deployment to serve (the emulator is not running, or make local never finished)"
            raise StepFailed(why, "make local")
        if not emulator.answers(running.port):
            raise StepFailed(f"the emulator (pid {running.pid}) does not answer on {running.endpoint}", "make local")
        session = recorded.served_on(args.api_port)
        server = serving.build_server(session, quiet=args.quiet)
    except StepFailed as exc:
        print(f"error: {exc.why}\nwhat to do: {exc.todo}", file=sys.stderr)
        return 1
    sessions.write(paths, session)
    serving.announce(paths, session, None)
    serving.serve(paths, server)
    print("\nAPI server stopped; the emulator and the stack are still running.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_only:
        return serve_only(args, local_paths())
    return up(args, local_paths())


if __name__ == "__main__":
    sys.exit(main())
