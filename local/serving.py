"""Serve a deployment that ``make local`` recorded: the API server in the foreground until Ctrl-C.

Used by ``make local`` after its deploy and by ``python -m local.up --serve-only`` without one.
The pid file (``.local/api.json``) lets ``make local-down`` stop a server from elsewhere.
"""

from __future__ import annotations

import json
import os

from local.api_server import ApiServer, ApiSettings, load_handler
from local.apigw import LambdaContext
from local.paths import LocalPaths
from local.progress import StepFailed
from local.session import Session
from workspace import processes
from workspace.paths import shown

#: Written in the server's command line: a pid from ``api.json`` is ours only if it runs this.
MARKER = "local.up"


def build_server(session: Session, quiet: bool = False) -> ApiServer:
    """An API server (bound, not yet serving) for the deployment ``session`` describes."""
    settings = ApiSettings(
        handler=load_handler(environ=session.handler_env),
        context=LambdaContext(session.function_name, session.timeout_seconds, session.memory_mb),
        stage=session.stage,
        quiet=quiet,
    )
    try:
        return ApiServer(("127.0.0.1", session.api_port), settings)
    except OSError as exc:
        raise StepFailed(
            f"cannot listen on 127.0.0.1:{session.api_port}: {exc.strerror or exc}",
            "free the port or pick another: make local TAP_API_PORT=8081 (or --api-port)",
        ) from None


def announce(paths: LocalPaths, session: Session, ready_after: float | None) -> None:
    """Where the API, its key, the emulator and the session are, and a ``curl`` line to try it."""
    url, key, endpoint = session.api_url, session.api_key, session.endpoint
    ready = f" (ready in {ready_after:.1f} s)" if ready_after is not None else ""
    task = {"kind": "pairwise", "prompt": "Which answer is kinder?", "responses": ["Yes.", "Gladly, yes!"]}
    body = json.dumps({"action": "create_task", "task": task})
    curl = f"curl -sS -X POST {url} -H 'x-api-key: {key}' -H 'Content-Type: application/json' -d '{body}'"
    print(
        f"\nThe RLHF Task Assignment Platform runs locally{ready}.\n"
        f'  API:       {url}   (POST only, JSON body with an "action")\n'
        f"  API key:   {key}\n"
        f"  emulator:  {endpoint}   (look inside: AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=test "
        f"AWS_SECRET_ACCESS_KEY=test aws ...)\n"
        f"  session:   {shown(paths.session)}\n"
        f"Try it:\n  {curl}\n"
        f"Ctrl-C stops the API server; the emulator and the stack stay up until make local-down.\n",
        flush=True,
    )


def serve(paths: LocalPaths, server: ApiServer) -> None:
    """Serve until Ctrl-C or SIGTERM, with the pid file in place meanwhile."""
    paths.api_pid.write_text(json.dumps({"pid": os.getpid(), "port": server.server_address[1]}) + "\n")
    try:
        processes.serve_until_stopped(server)
    finally:
        paths.api_pid.unlink(missing_ok=True)


def serving_pid(paths: LocalPaths) -> tuple[int, int] | None:
    """(pid, port) of an API server ``make local`` still runs from ``paths``, if any."""
    return processes.read_pid_file(paths.api_pid, MARKER)
