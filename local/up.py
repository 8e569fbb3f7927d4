"""``make local``: run the whole platform on this machine, with no AWS account.

1. check what is needed (terraform, free ports)
2. start the mended moto emulator in the background (or reuse the one already running)
3. create the Terraform state bucket on it
4. synthesize the ``local`` stack (same code as production; endpoints and names differ)
5. ``terraform init``
6. ``terraform apply`` — every resource of the stack, on the emulator
7. store a fresh API key in the deployed secret
8. serve the API on http://127.0.0.1:8080/lambda, calling the real handler in-process

Ctrl-C stops the API server only; the emulator and the deployed stack stay up, so the next
``make local`` is quick (it reuses them). ``make local-down`` destroys and stops everything.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

from local import emulator
from local.paths import LocalPaths, local_paths
from local.progress import Progress, StepFailed, report_failure

DEFAULT_API_PORT = 8080
REQUIRED_OUTPUTS = ("api_key_secret_arn", "lambda_function_name", "dynamodb_table_name", "s3_log_bucket_name")


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"error: {name}={raw!r} is not a port number")
    return int(raw)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.up", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=_env_port("TAP_EMULATOR_PORT", emulator.DEFAULT_PORT),
        help="emulator port (default TAP_EMULATOR_PORT or %(default)s)",
    )
    parser.add_argument(
        "--api-port", type=int, default=_env_port("TAP_API_PORT", DEFAULT_API_PORT),
        help="API server port (default TAP_API_PORT or %(default)s)",
    )
    parser.add_argument("--no-serve", action="store_true", help="deploy and store the key, then return")
    parser.add_argument("--fresh", action="store_true", help="stop a running emulator and deploy from scratch")
    parser.add_argument(
        "--serve-only", action="store_true",
        help="skip the deploy: serve the deployment make local made last (after a Ctrl-C, say)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each API request")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------


def check_prerequisites(paths: LocalPaths, args: argparse.Namespace) -> list[str]:
    from local.terraform import TerraformMissing, terraform_binary

    try:
        terraform = terraform_binary()
    except TerraformMissing as exc:
        raise StepFailed(str(exc), "install Terraform >= 1.10, then run make local again") from None
    handler = paths.project / "function" / "lambda_function.py"
    if not handler.is_file():
        raise StepFailed(f"{paths.rel(handler)} is missing", "run from a complete checkout of the project")
    if args.port == args.api_port:
        raise StepFailed("the emulator and the API would share one port", "pick different --port and --api-port")
    if not args.no_serve and not emulator.port_bindable(args.api_port):
        holder = _api_holder(paths)
        who = f" by an earlier make local still serving (pid {holder})" if holder else " by another program"
        raise StepFailed(
            f"API port {args.api_port} on 127.0.0.1 is already in use{who}",
            "stop it (Ctrl-C in its terminal), or serve elsewhere: make local TAP_API_PORT=8081",
        )
    return [terraform]


def _api_holder(paths: LocalPaths) -> int | None:
    try:
        pid = int(json.loads(paths.api_pid.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if emulator.pid_alive(pid) and "local.up" in emulator.cmdline(pid) else None


def start_or_reuse_emulator(paths: LocalPaths, port: int, fresh: bool, step: Any) -> emulator.RunningEmulator:
    found = emulator.running_emulator(paths)
    if found and not fresh and found.port == port and emulator.answers(port):
        step.note(f"reused pid {found.pid} on {found.endpoint}")
        return found
    if found:
        reason = "--fresh" if fresh else (f"it ran on port {found.port}" if found.port != port else "it did not answer")
        emulator.stop_emulator(paths)
        step.note(f"stopped the previous emulator (pid {found.pid}: {reason})")
    else:
        paths.emulator_pid.unlink(missing_ok=True)  # stale: its process is gone
    try:
        started = emulator.start_background(port, paths)
    except emulator.EmulatorError as exc:
        why, _, rest = str(exc).partition("\n")
        details, _, todo = rest.rpartition("what to do: ")
        raise StepFailed(why, todo or "see the emulator log", details.rstrip("\n")) from None
    step.note(f"pid {started.pid} on {started.endpoint}, log {paths.rel(paths.emulator_log)}")
    return started


def create_state_bucket(port: int, step: Any) -> None:
    try:
        created = emulator.ensure_state_bucket(port)
    except Exception as exc:  # botocore's many error types: all mean the emulator misbehaves
        raise StepFailed(
            f"the emulator did not accept the state bucket: {exc}",
            "restart it: make local-down && make local",
        ) from None
    step.note(("created " if created else "exists: ") + f"s3://{emulator.STATE_BUCKET}")


def store_api_key(paths: LocalPaths, port: int, outputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Put a fresh key into the deployed secret; returns it and the function's configuration."""
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    if missing:
        raise StepFailed(
            f"the stack has no output(s) {', '.join(missing)}",
            "the local platform needs these outputs of the stack; see docs/local.md",
        )
    key = secrets.token_urlsafe(32)
    try:
        emulator.boto_client("secretsmanager", port).put_secret_value(
            SecretId=outputs["api_key_secret_arn"], SecretString=json.dumps({"api_keys": [key]})
        )
        config = emulator.boto_client("lambda", port).get_function_configuration(
            FunctionName=outputs["lambda_function_name"]
        )
    except Exception as exc:
        raise StepFailed(f"the emulator refused: {exc}", "re-run make local; if it persists: make local-down") from None
    return key, config


def stage_name(outputs: dict[str, Any]) -> str:
    for name in ("api_stage_name", "stage_name"):
        if isinstance(outputs.get(name), str) and outputs[name]:
            return outputs[name]
    for name, value in outputs.items():
        # e.g. https://abc.execute-api.us-west-2.amazonaws.com/prod/lambda
        if "url" in name and isinstance(value, str) and "execute-api" in value:
            parts = [p for p in value.split("://", 1)[-1].split("/")[1:] if p]
            if parts:
                return parts[0]
    return "local"


def write_session(paths: LocalPaths, session: dict[str, Any]) -> None:
    paths.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.session, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(session, fh, indent=2)
        fh.write("\n")


def read_session(paths: LocalPaths) -> dict[str, Any] | None:
    try:
        return json.loads(paths.session.read_text())
    except (OSError, ValueError):
        return None


def curl_example(url: str, key: str) -> str:
    body = json.dumps(
        {
            "action": "create_task",
            "task": {"kind": "pairwise", "prompt": "Which answer is kinder?", "responses": ["Yes.", "Gladly, yes!"]},
        }
    )
    return f"curl -sS -X POST {url} -H 'x-api-key: {key}' -H 'Content-Type: application/json' -d '{body}'"


# --------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------


def announce(paths: LocalPaths, session: dict[str, Any], ready_after: float | None) -> None:
    url, key, endpoint = session["api_url"], session["api_key"], session["endpoint"]
    ready = f" (ready in {ready_after:.1f} s)" if ready_after is not None else ""
    print(
        f"\nThe RLHF Task Assignment Platform runs locally{ready}.\n"
        f"  API:       {url}   (POST only, JSON body with an \"action\")\n"
        f"  API key:   {key}\n"
        f"  emulator:  {endpoint}   (look inside: AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=test "
        f"AWS_SECRET_ACCESS_KEY=test aws ...)\n"
        f"  session:   {paths.rel(paths.session)}\n"
        f"Try it:\n  {curl_example(url, key)}\n"
        f"Ctrl-C stops the API server; the emulator and the stack stay up until make local-down.\n",
        flush=True,
    )


def build_server(session: dict[str, Any], quiet: bool = False) -> Any:
    """An API server for a deployment described by ``session`` (not started)."""
    from local.api_server import ApiServer, ApiSettings, load_handler

    handler = load_handler(environ=session["handler_env"])
    settings = ApiSettings(
        handler=handler,
        function_name=session["function_name"],
        timeout_seconds=float(session.get("timeout_seconds") or 15),
        memory_mb=int(session.get("memory_mb") or 256),
        stage=session.get("stage") or "local",
        quiet=quiet,
    )
    return ApiServer(("127.0.0.1", int(session["api_port"])), settings)


def serve(paths: LocalPaths, server: Any) -> None:
    """Serve until Ctrl-C or SIGTERM; the pid file lets make local-down stop it from elsewhere."""

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops serving even when SIGINT was inherited as ignored (a background job, nohup).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    paths.api_pid.write_text(json.dumps({"pid": os.getpid(), "port": server.server_address[1]}) + "\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        paths.api_pid.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def up(args: argparse.Namespace, paths: LocalPaths) -> int:
    from local import deploy

    total = 7 if args.no_serve else 8
    progress = Progress(total)
    started = time.monotonic()
    try:
        with progress.step("checking terraform and ports") as step:
            check_prerequisites(paths, args)
        with progress.step("starting the emulator") as step:
            running = start_or_reuse_emulator(paths, args.port, args.fresh, step)
        endpoint = running.endpoint
        with progress.step("creating the state bucket") as step:
            create_state_bucket(args.port, step)
        with progress.step("synthesizing the local stack") as step:
            target = deploy.synthesize(endpoint, paths)
            step.note(paths.rel(target))
        with progress.step("terraform init") as step:
            deploy.terraform_init(paths)
        with progress.step(f"terraform apply (log: {paths.rel(paths.logs / 'terraform-apply.log')})") as step:
            step.note(deploy.terraform_apply(paths))
        with progress.step("storing a fresh API key") as step:
            outputs = deploy.terraform_outputs(paths)
            key, config = store_api_key(paths, args.port, outputs)
            step.note(f"secret {outputs['api_key_secret_arn'].rsplit(':', 1)[-1]}")
        from local.api_server import handler_environment

        session = {
            "api_url": f"http://127.0.0.1:{args.api_port}/lambda",
            "api_port": args.api_port,
            "api_key": key,
            "endpoint": endpoint,
            "emulator_port": args.port,
            "function_name": config["FunctionName"],
            "timeout_seconds": config.get("Timeout"),
            "memory_mb": config.get("MemorySize"),
            "stage": stage_name(outputs),
            "handler_env": handler_environment(
                (config.get("Environment") or {}).get("Variables") or {}, endpoint, emulator.REGION
            ),
            "outputs": outputs,
            "deployed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_session(paths, session)
        if args.no_serve:
            print(f"\nlocal stack deployed in {time.monotonic() - started:.1f} s; emulator at {endpoint}")
            print(f"API key:  {key}   (also in {paths.rel(paths.session)})")
            print("serve it: python -m local.up --serve-only   |   destroy: make local-down")
            return 0
        with progress.step("starting the API server") as step:
            try:
                server = build_server(session, quiet=args.quiet)
            except OSError as exc:
                raise StepFailed(
                    f"cannot listen on 127.0.0.1:{args.api_port}: {exc.strerror or exc}",
                    "free the port or pick another: make local TAP_API_PORT=8081",
                ) from None
    except StepFailed as failure:
        report_failure(progress.current, failure)
        return 1
    except KeyboardInterrupt:
        print(
            f"\ninterrupted during '{progress.current}'. The emulator keeps running; "
            "run make local again to carry on, or make local-down to remove everything.",
            file=sys.stderr,
        )
        return 130

    announce(paths, session, time.monotonic() - started)
    serve(paths, server)
    print(
        "\nAPI server stopped. The emulator and the deployed stack are still running "
        f"({endpoint}); make local serves again quickly, make local-down removes everything.",
        flush=True,
    )
    return 0


def serve_only(args: argparse.Namespace, paths: LocalPaths) -> int:
    """Serve the API again for a deployment that is still up (no Terraform)."""
    session = read_session(paths)
    running = emulator.running_emulator(paths)
    if not session or not running or running.port != session.get("emulator_port") or not emulator.answers(running.port):
        print(
            "error: no running local deployment to serve (the emulator is not running, or make local never finished).\n"
            "what to do: make local",
            file=sys.stderr,
        )
        return 1
    session["api_port"] = args.api_port
    session["api_url"] = f"http://127.0.0.1:{args.api_port}/lambda"
    try:
        server = build_server(session, quiet=args.quiet)
    except OSError as exc:
        print(
            f"error: cannot listen on 127.0.0.1:{args.api_port}: {exc.strerror or exc}\n"
            "what to do: free the port or pick another with --api-port",
            file=sys.stderr,
        )
        return 1
    write_session(paths, session)
    announce(paths, session, None)
    serve(paths, server)
    print("\nAPI server stopped; the emulator and the stack are still running.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name, port in (("--port", args.port), ("--api-port", args.api_port)):
        if not 0 < port < 65536:
            print(f"error: {name} {port} is not a port number", file=sys.stderr)
            return 2
    if args.serve_only:
        return serve_only(args, local_paths())
    return up(args, local_paths())


if __name__ == "__main__":
    sys.exit(main())
