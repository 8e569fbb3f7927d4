"""The whole platform on this machine: ``make local``'s code path, over real HTTP, then torn down.

One deployment per session (it takes minutes): ``python -m local.up`` runs in a subprocess on
free loopback ports with its own ``TAP_LOCAL_DIR``, so a developer's running ``make local``
is left alone. The tests run in file order and share it; the last one destroys it with
``python -m local.down`` and checks that nothing is left.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from local import deploy
from local.emulator import boto_client, port_bindable
from local.paths import PROJECT, LocalPaths
from local.terraform import TerraformMissing, terraform_binary

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DEPLOY_SECONDS = 780


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, body: Any = None, key: str | None = None, raw: bytes | None = None) -> tuple[int, dict[str, str], Any]:
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, head, text = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, head, text = error.code, dict(error.headers), error.read()
    return status, {k.lower(): v for k, v in head.items()}, json.loads(text) if text else None


def _pids_in(paths: LocalPaths) -> list[int]:
    """Processes whose command line or working directory lies in the test's local dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"TAP_LOCAL_DIR={paths.root}".encode() in environ.split(b"\0"):
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":
                found.append(int(entry.name))
    return found


class Deployment:
    def __init__(self, paths: LocalPaths, env: dict[str, str], emulator_port: int, api_port: int) -> None:
        self.paths = paths
        self.env = env
        self.emulator_port = emulator_port
        self.api_port = api_port
        self.process: subprocess.Popen[str] | None = None
        self.output = paths.root.parent / "up.out"
        self.session: dict[str, Any] = {}
        self.torn_down = False

    @property
    def url(self) -> str:
        return self.session["api_url"]

    @property
    def key(self) -> str:
        return self.session["api_key"]

    def start(self) -> None:
        self.paths.root.parent.mkdir(parents=True, exist_ok=True)
        with open(self.output, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local.up", "--port", str(self.emulator_port),
                 "--api-port", str(self.api_port), "--quiet"],
                cwd=PROJECT, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True,
            )
        deadline = time.monotonic() + DEPLOY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make local (python -m local.up) exited with {self.process.returncode}:\n{self.log()}")
            if self.paths.session.is_file() and not port_bindable(self.api_port):
                self.session = json.loads(self.paths.session.read_text())
                return
            time.sleep(1)
        pytest.fail(f"the local platform was not serving after {DEPLOY_SECONDS} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.output.read_text()[-6000:]
        except OSError:
            return "(no output)"

    def stop_api(self) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def down(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "local.down", *extra], cwd=PROJECT, env=self.env,
            text=True, capture_output=True, timeout=600, check=False,
        )

    def cleanup(self) -> None:
        """Whatever happened, leave no process behind (used when a test failed midway)."""
        self.stop_api()
        if not self.torn_down:
            self.down("--force")
        for pid in _pids_in(self.paths):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    try:
        terraform_binary()
    except TerraformMissing as exc:
        pytest.skip(str(exc))
    root = tmp_path_factory.mktemp("tap-local") / "local"
    env = dict(os.environ)
    env["TAP_LOCAL_DIR"] = str(root)
    for name in ("TAP_EMULATOR_PORT", "TAP_API_PORT", "TAP_EMULATOR_ENDPOINT", "TAP_ENVIRONMENTS"):
        env.pop(name, None)
    paths = LocalPaths(project=PROJECT, root=root, outdir=root / "cdktf.out")
    emulator_port, api_port = _free_port(), _free_port()
    while api_port == emulator_port:
        api_port = _free_port()
    deployment = Deployment(paths, env, emulator_port, api_port)
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.cleanup()


def test_serves_the_api_with_the_deployed_configuration(deployment: Deployment) -> None:
    outputs = deployment.session["outputs"]
    assert deployment.url == f"http://127.0.0.1:{deployment.api_port}/lambda"
    env = deployment.session["handler_env"]
    # The handler runs with the variables the emulator reports for the deployed function.
    assert env["DYNAMODB_TABLE"] == outputs["dynamodb_table_name"]
    assert env["LOG_BUCKET"] == outputs["s3_log_bucket_name"]
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{deployment.emulator_port}"
    # The fresh key is in the secret the deployed function is configured to read.
    secrets = boto_client("secretsmanager", deployment.emulator_port)
    for secret_id in (env["API_KEY_SECRET"], outputs["api_key_secret_arn"]):
        secret = secrets.get_secret_value(SecretId=secret_id)
        assert json.loads(secret["SecretString"]) == {"api_keys": [deployment.key]}
    assert "[1/8]" in deployment.log() and "terraform apply" in deployment.log()


def test_task_lifecycle_over_http(deployment: Deployment) -> None:
    url, key = deployment.url, deployment.key
    prompt = f"e2e {uuid.uuid4()}"
    status, headers, created = _post(
        url, {"action": "create_task", "task": {"prompt": prompt, "responses": ["a", "b"], "priority": 9}}, key
    )
    assert status == 201, created
    task = created["task"]
    assert task["status"] == "pending" and task["prompt"] == prompt
    assert headers["x-amzn-requestid"]

    status, _, listed = _post(url, {"action": "list_tasks", "status": "pending", "limit": 100}, key)
    assert status == 200, listed
    assert task["id"] in [t["id"] for t in listed["tasks"]]

    status, _, claimed = _post(url, {"action": "claim_task", "annotator_id": "e2e-annotator", "task_id": task["id"]}, key)
    assert status == 200, claimed
    assert claimed["task"]["status"] == "assigned" and claimed["task"]["assignee"] == "e2e-annotator"

    status, _, submitted = _post(
        url,
        {"action": "submit_feedback", "task_id": task["id"], "annotator_id": "e2e-annotator",
         "feedback": {"preferred": 1, "rationale": "shorter"}},
        key,
    )
    assert status == 200, submitted
    assert submitted["task"]["status"] == "completed"

    status, _, fetched = _post(url, {"action": "get_task", "task_id": task["id"]}, key)
    assert status == 200, fetched
    assert fetched["task"]["status"] == "completed"
    assert fetched["task"]["feedback"]["preferred"] == 1

    # The item really is in the deployed table.
    item = boto_client("dynamodb", deployment.emulator_port).get_item(
        TableName=deployment.session["outputs"]["dynamodb_table_name"], Key={"id": {"S": task["id"]}}
    )
    assert item["Item"]["status"]["S"] == "completed"


def test_errors_keep_their_codes(deployment: Deployment) -> None:
    url, key = deployment.url, deployment.key
    status, _, body = _post(url, {"action": "list_tasks"})
    assert status == 401, body
    assert body["error"]["code"] == "missing_api_key"

    status, _, body = _post(url, {"action": "list_tasks"}, "not-the-key")
    assert status == 403, body

    status, _, body = _post(url, raw=b'{"action": "create_task", ', key=key)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_json"

    request = urllib.request.Request(url.replace("/lambda", "/elsewhere"), data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 404
    assert json.loads(error.value.read())["message"] == "Not Found"


def test_every_request_is_audited_in_the_bucket(deployment: Deployment) -> None:
    status, headers, body = _post(deployment.url, {"action": "list_tasks"}, deployment.key)
    assert status == 200, body
    request_id = headers["x-amzn-requestid"]
    s3 = boto_client("s3", deployment.emulator_port)
    bucket = deployment.session["outputs"]["s3_log_bucket_name"]
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="audit/")
            for o in page.get("Contents", [])]
    # create, list, claim, submit, get, three rejected requests (401, 403, 400) and this one;
    # the 404 for another path never reaches the handler.
    assert len(keys) >= 9, keys
    mine = [k for k in keys if k.endswith(f"/{request_id}.json")]
    assert mine, f"no audit object for request {request_id}"
    record = json.loads(s3.get_object(Bucket=bucket, Key=mine[0])["Body"].read())
    assert record["request_id"] == request_id and record["status"] == 200
    assert record["caller"]["source_ip"] == "127.0.0.1"
    assert deployment.key not in json.dumps(record), "the API key must be redacted from the audit record"
    rejected = [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read())["status"] for k in keys]
    assert 401 in rejected and 400 in rejected


def test_down_destroys_everything_and_leaves_nothing(deployment: Deployment) -> None:
    paths = deployment.paths
    assert deployment.stop_api() == 0, deployment.log()
    assert port_bindable(deployment.api_port), "Ctrl-C must stop the API server"
    assert "API server stopped" in deployment.log()
    # Ctrl-C leaves the emulator and the stack running for the next make local.
    state = deploy.terraform_state_list(paths)
    assert len(state) > 30, state
    assert not port_bindable(deployment.emulator_port)

    # What make local-down does, first the destroy alone so the emptied state can be read.
    summary = deploy.terraform_destroy(paths)
    assert summary.startswith("Destroy complete!"), summary
    assert deploy.terraform_state_list(paths) == []

    result = deployment.down()
    deployment.torn_down = True
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[4/4] removing local files" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert port_bindable(deployment.emulator_port), "the emulator port is still taken"
    assert port_bindable(deployment.api_port)
    assert _pids_in(paths) == [], "a process of the local platform is still running"
    assert not paths.root.exists(), sorted(str(p) for p in paths.root.rglob("*"))
    assert not (paths.stack_dir / ".terraform").exists()
