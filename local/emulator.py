"""A moto server mended for this stack, and the means to start, find and stop it.

``python -m local.emulator`` serves in the foreground; ``--background`` starts it detached
(pid file in ``.local/``), waits until it answers, creates the Terraform state bucket and
returns, which is what ``make emulator`` does before ``npx cdktf deploy local``.

Three things the AWS provider needs are missing or wrong in moto 5.2 and are mended here,
inside the emulator process only:

* Application Auto Scaling has no ``TagResource``/``UntagResource``/``ListTagsForResource``;
  the provider reads a scalable target's tags after creating it and retries for minutes
  when that call fails. Tags are kept in this process, keyed by ARN.
* API Gateway returns a REST API's ``policy`` as the JSON text itself, where AWS escapes
  it once more (the provider unquotes it and fails otherwise).
* AWS managed IAM policies (``arn:aws:iam::aws:policy/...``) exist only when
  ``MOTO_IAM_LOAD_MANAGED_POLICIES`` is true.

And one more the stack runs into: moto evaluates bucket policy conditions with
``StringEquals`` only and ignores every other operator, so the audit bucket's
``DenyPlainHttp`` statement (``Bool aws:SecureTransport = false``) became an unconditional
deny and refused every audit write. Here the common operators are evaluated, a statement
applies only when its condition holds, and requests count as arriving over TLS (the
emulator stands in for AWS's HTTPS endpoints). And a bucket's ``EventBridgeConfiguration``,
which moto stores but leaves out of ``GetBucketNotificationConfiguration``, is returned, so
a second apply has nothing to change.
"""

from __future__ import annotations

import argparse
import errno
import fnmatch
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.paths import LocalPaths, local_paths

HOST = "127.0.0.1"
DEFAULT_PORT = 4566
REGION = "us-west-2"
STATE_BUCKET = "tap-stack-local-tfstate"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
#: Written in the emulator's command line so a pid from the pid file is recognised as ours.
MARKER = "local.emulator"


class EmulatorError(RuntimeError):
    """The emulator could not be started, reached or stopped; the message says why and what to do."""


# --------------------------------------------------------------------------------------
# The mends (run inside the emulator process)
# --------------------------------------------------------------------------------------

#: Application Auto Scaling tags: {(account, region): {arn: {key: value}}}.
_AAS_TAGS: dict[tuple[str, str], dict[str, dict[str, str]]] = {}


def _patch_application_autoscaling() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as Response
    from moto.core.exceptions import JsonRESTError

    if getattr(Response, "_tap_tags_patched", False):
        return

    def tag_store(self: Any) -> dict[str, dict[str, str]]:
        return _AAS_TAGS.setdefault((self.current_account, self.region), {})

    def known_arn(self: Any, arn: str) -> bool:
        backend = self.applicationautoscaling_backend
        for targets in backend.targets.values():
            for target in targets.values():
                if target.arn == arn:
                    return True
        return False

    def not_found(arn: str) -> Any:
        raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for {arn}")

    def list_tags_for_resource(self: Any) -> Any:
        arn = self._get_param("ResourceARN")
        if not known_arn(self, arn):
            return not_found(arn)
        return json.dumps({"Tags": dict(tag_store(self).get(arn, {}))})

    def tag_resource(self: Any) -> Any:
        arn = self._get_param("ResourceARN")
        if not known_arn(self, arn):
            return not_found(arn)
        tag_store(self).setdefault(arn, {}).update(self._get_param("Tags") or {})
        return json.dumps({})

    def untag_resource(self: Any) -> Any:
        arn = self._get_param("ResourceARN")
        if not known_arn(self, arn):
            return not_found(arn)
        tags = tag_store(self).setdefault(arn, {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return json.dumps({})

    original_register = Response.register_scalable_target
    original_deregister = Response.deregister_scalable_target

    def register_scalable_target(self: Any) -> str:
        # RegisterScalableTarget carries the initial tags; moto drops them.
        result = original_register(self)
        tags = self._get_param("Tags")
        if tags:
            arn = json.loads(result)["ScalableTargetARN"]
            tag_store(self).setdefault(arn, {}).update(tags)
        return result

    def deregister_scalable_target(self: Any) -> str:
        backend = self.applicationautoscaling_backend
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        before = {
            t.arn
            for t in backend.describe_scalable_targets(namespace, [resource_id], dimension)
        }
        result = original_deregister(self)
        for arn in before:
            tag_store(self).pop(arn, None)
        return result

    Response.list_tags_for_resource = list_tags_for_resource
    Response.tag_resource = tag_resource
    Response.untag_resource = untag_resource
    Response.register_scalable_target = register_scalable_target
    Response.deregister_scalable_target = deregister_scalable_target
    Response._tap_tags_patched = True


def _patch_apigateway_policy() -> None:
    from moto.apigateway.models import RestAPI

    if getattr(RestAPI, "_tap_policy_patched", False):
        return
    original_to_dict = RestAPI.to_dict

    def to_dict(self: Any) -> dict[str, Any]:
        data = original_to_dict(self)
        policy = data.get(RestAPI.PROP_POLICY)
        if isinstance(policy, str) and policy:
            # AWS answers with the policy JSON escaped once more, as in a JSON string literal.
            data[RestAPI.PROP_POLICY] = json.dumps(policy)[1:-1]
        return data

    RestAPI.to_dict = to_dict
    RestAPI._tap_policy_patched = True


#: Request context the emulator's bucket policies are evaluated with: it stands in for AWS's
#: HTTPS endpoints, so requests count as having arrived over TLS.
_S3_REQUEST_CONTEXT = {"aws:securetransport": "true"}


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM condition evaluation for the common operators (moto 5.2 knows StringEquals only
    and ignores every other operator, so a conditional Deny becomes an unconditional one).

    A key missing from ``context`` fails the positive operators and passes the negated and
    ``...IfExists`` ones, as on AWS; an operator not handled here makes the condition fail,
    so the statement does not apply.
    """
    for raw_operator, pairs in condition.items():
        operator = raw_operator.removesuffix("IfExists")
        if_exists = operator != raw_operator
        for key, expected in (pairs or {}).items():
            wanted = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            actual = context.get(key.lower())
            if operator == "Null":
                ok = ("true" if actual is None else "false") in [w.lower() for w in wanted]
            elif actual is None:
                ok = if_exists or operator in ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike")
            elif operator == "Bool":
                ok = actual.lower() in [w.lower() for w in wanted]
            elif operator == "StringEquals":
                ok = actual in wanted
            elif operator == "StringNotEquals":
                ok = actual not in wanted
            elif operator == "StringEqualsIgnoreCase":
                ok = actual.lower() in [w.lower() for w in wanted]
            elif operator == "StringNotEqualsIgnoreCase":
                ok = actual.lower() not in [w.lower() for w in wanted]
            elif operator == "StringLike":
                ok = any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            elif operator == "StringNotLike":
                ok = not any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            else:
                ok = False
            if not ok:
                return False
    return True


def _patch_s3_bucket_policy_conditions() -> None:
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket, "_tap_policy_patched", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy)
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        permitted = False
        for raw in statements:
            # A statement applies only when its condition holds.
            if raw.get("Condition") and not condition_holds(raw["Condition"], _S3_REQUEST_CONTEXT):
                continue
            unconditional = {k: v for k, v in raw.items() if k != "Condition"}
            result = IAMPolicyStatement(unconditional).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return result
            permitted = permitted or result == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission
    FakeBucket._tap_policy_patched = True


def _patch_s3_eventbridge_notification() -> None:
    from moto.s3.responses import S3Response

    if getattr(S3Response, "_tap_eventbridge_patched", False):
        return
    original = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        # moto stores EventBridgeConfiguration but leaves it out of the answer, so the provider
        # sees `eventbridge = false` after every apply and plans the change again.
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if not config or getattr(config, "event_bridge", None) is None:
            return original(self)
        result = original(self)
        status, headers, body = result if isinstance(result, tuple) and len(result) == 3 else (200, {}, result)
        text = body.decode() if isinstance(body, bytes) else str(body)
        if "<EventBridgeConfiguration" not in text:
            closing = "</NotificationConfiguration>"
            if closing in text:
                text = text.replace(closing, "<EventBridgeConfiguration></EventBridgeConfiguration>" + closing)
            else:  # an empty answer: <NotificationConfiguration/>
                text = re.sub(
                    r"<NotificationConfiguration([^>]*)/>",
                    r"<NotificationConfiguration\1><EventBridgeConfiguration></EventBridgeConfiguration>"
                    r"</NotificationConfiguration>",
                    text,
                )
        return status, headers, text

    S3Response.get_bucket_notification = get_bucket_notification
    S3Response._tap_eventbridge_patched = True


def apply_mends() -> None:
    """Mend moto in this process: call before the first request is served."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    _patch_application_autoscaling()
    _patch_apigateway_policy()
    _patch_s3_bucket_policy_conditions()
    _patch_s3_eventbridge_notification()


def serve(host: str, port: int) -> int:
    """Serve the mended moto on ``host:port`` in the foreground until SIGINT/SIGTERM."""
    apply_mends()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"error: port {port} on {host} is already in use", file=sys.stderr, flush=True)
            return 3
        raise

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"tap-stack emulator (moto) serving on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("tap-stack emulator stopped", flush=True)
    return 0


# --------------------------------------------------------------------------------------
# Starting, finding and stopping it (run from make local / make emulator / local-down)
# --------------------------------------------------------------------------------------


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether something listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def port_bindable(port: int, host: str = HOST) -> bool:
    """Whether a server could bind ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def answers(port: int, timeout: float = 2.0) -> bool:
    """Whether a moto server answers on ``port`` (its STS GetCallerIdentity works)."""
    request = urllib.request.Request(
        endpoint_url(port) + "/",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-west-2/sts/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status == 200 and b"GetCallerIdentityResult" in response.read()
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def cmdline(pid: int) -> str:
    """A process's command line, or '' when it cannot be read."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class RunningEmulator:
    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        return endpoint_url(self.port)


def read_pid_file(paths: LocalPaths) -> RunningEmulator | None:
    """The emulator the pid file names, whether or not it still runs; None without a (valid) file."""
    try:
        data = json.loads(paths.emulator_pid.read_text())
        return RunningEmulator(pid=int(data["pid"]), port=int(data["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_ours(emulator: RunningEmulator) -> bool:
    """Whether the pid still runs our emulator (not a recycled pid)."""
    if not pid_alive(emulator.pid):
        return False
    line = cmdline(emulator.pid)
    return not line or MARKER in line


def running_emulator(paths: LocalPaths) -> RunningEmulator | None:
    """The emulator ``make local``/``make emulator`` started, if it still runs."""
    found = read_pid_file(paths)
    if found and is_ours(found):
        return found
    return None


def start_background(port: int, paths: LocalPaths, wait_seconds: float = 60.0) -> RunningEmulator:
    """Start the emulator detached from this process and wait until it answers."""
    if not port_bindable(port):
        raise EmulatorError(
            f"port {port} on {HOST} is already in use by another program, so the emulator cannot start.\n"
            f"what to do: stop that program, or pick another port: make local TAP_EMULATOR_PORT=4567 "
            f"(or python -m local.up --port 4567)"
        )
    paths.root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(DUMMY_CREDENTIALS)
    env.setdefault("AWS_DEFAULT_REGION", REGION)
    with open(paths.emulator_log, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", MARKER, "--host", HOST, "--port", str(port)],
            cwd=paths.project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal that started it does not reach it
        )
    emulator = RunningEmulator(pid=process.pid, port=port)
    paths.emulator_pid.write_text(json.dumps({"pid": process.pid, "port": port, "started": time.time()}) + "\n")
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            paths.emulator_pid.unlink(missing_ok=True)
            raise EmulatorError(
                f"the emulator exited at start (exit code {process.returncode}).\n"
                f"{tail(paths.emulator_log, 15)}\n"
                f"what to do: read {paths.rel(paths.emulator_log)}; if the port is taken, pick another with --port"
            )
        if answers(port, timeout=1.0):
            return emulator
        time.sleep(0.2)
    stop_process(process.pid)
    paths.emulator_pid.unlink(missing_ok=True)
    raise EmulatorError(
        f"the emulator did not answer on {endpoint_url(port)} within {wait_seconds:.0f} s.\n"
        f"{tail(paths.emulator_log, 15)}\n"
        f"what to do: read {paths.rel(paths.emulator_log)}; check that moto[server] is installed (pipenv sync --dev)"
    )


def stop_process(pid: int, grace: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds; True if the process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            _reap(pid)
            return True
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    for _ in range(50):
        if not pid_alive(pid):
            _reap(pid)
            return True
        time.sleep(0.1)
    return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_emulator(paths: LocalPaths) -> RunningEmulator | None:
    """Stop the emulator the pid file names (if it runs) and remove the pid file."""
    found = read_pid_file(paths)
    stopped = None
    if found and is_ours(found):
        if not stop_process(found.pid):
            raise EmulatorError(f"the emulator (pid {found.pid}) did not stop; kill it with: kill -9 {found.pid}")
        stopped = found
    paths.emulator_pid.unlink(missing_ok=True)
    return stopped


def boto_client(service: str, port: int) -> Any:
    """A boto3 client for the emulator: dummy credentials, no retries, short timeouts."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    ).client(
        service,
        endpoint_url=endpoint_url(port),
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                      s3={"addressing_style": "path"}),
    )


def ensure_state_bucket(port: int) -> bool:
    """Create the Terraform state bucket on the emulator; True if it was created now."""
    s3 = boto_client("s3", port)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if STATE_BUCKET in existing:
        return False
    s3.create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return True


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, indented, or a note that it is empty."""
    try:
        text = path.read_text(errors="replace").rstrip("\n")
    except OSError:
        return "    (no log)"
    picked = text.splitlines()[-lines:]
    return "\n".join("    | " + line for line in picked) if picked else "    (log is empty)"


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _default_port() -> int:
    raw = os.environ.get("TAP_EMULATOR_PORT", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_PORT


def _background(port: int) -> int:
    """``make emulator``: start (or reuse) the emulator in the background and create the state bucket."""
    paths = local_paths()
    existing = running_emulator(paths)
    if existing and existing.port == port and answers(port):
        print(f"emulator already running: {existing.endpoint} (pid {existing.pid})")
    elif existing:
        print(
            f"error: an emulator started here already runs on port {existing.port} (pid {existing.pid}).\n"
            "what to do: make local-down (destroys the local stack and stops it), then try again",
            file=sys.stderr,
        )
        return 1
    else:
        try:
            started = time.monotonic()
            existing = start_background(port, paths)
        except EmulatorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"emulator started: {existing.endpoint} (pid {existing.pid}) in {time.monotonic() - started:.1f} s")
    ensure_state_bucket(port)
    print(f"state bucket:     s3://{STATE_BUCKET}")
    print(f"log:              {paths.rel(paths.emulator_log)}")
    endpoint = "" if port == DEFAULT_PORT else f" TAP_EMULATOR_ENDPOINT={existing.endpoint}"
    print(f"next:             TAP_ENVIRONMENTS=local{endpoint} npx cdktf deploy local --auto-approve")
    print("                  (make local serves the API for it; make local-down destroys and stops everything)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.emulator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=HOST, help="address to bind (loopback only; default %(default)s)")
    parser.add_argument("--port", type=int, default=_default_port(), help="port (default TAP_EMULATOR_PORT or 4566)")
    parser.add_argument(
        "--background", action="store_true",
        help="start detached (pid file in .local/), create the state bucket and return",
    )
    args = parser.parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        parser.error("--host must be a loopback address")
    if args.background:
        return _background(args.port)
    return serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
