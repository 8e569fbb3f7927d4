"""The whole platform on this machine: ``make local``'s code path, over real HTTP, then torn down.

The deployment is the session's ``deployment`` fixture (tests/integration/conftest.py and
local_deployment.py: one ``python -m local.up`` in a subprocess on free loopback ports with its
own ``TAP_LOCAL_DIR``, torn down the documented way at the end, with checks that nothing is
left). Each test sends its own requests and looks only at what they produced, so the tests
pass in any order.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from function import contract
from local import deploy
from local.paths import LocalPaths
from tests.integration import tap_scenario
from tests.integration.local_deployment import Deployment
from workspace.terraform import emulator_env, run_terraform

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _post(url: str, body: Any = None, key: str | None = None, raw: bytes | None = None) -> tuple[int, str, Any]:
    """POST and return (status, the x-amzn-RequestId header, the parsed JSON body)."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, head, text = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, text = error.code, error.headers, error.read()
    return status, head.get("x-amzn-RequestId", ""), json.loads(text) if text else None


def test_serves_the_api_with_the_deployed_configuration(deployment: Deployment) -> None:
    session = deployment.session
    assert session.api_url == f"http://127.0.0.1:{deployment.api_port}/lambda"
    env = session.handler_env
    # The handler runs with the variables the emulator reports for the deployed function.
    assert env["DYNAMODB_TABLE"] == session.outputs.dynamodb_table_name
    assert env["LOG_BUCKET"] == session.outputs.s3_log_bucket_name
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{deployment.emulator_port}"
    # The fresh key is in the secret the deployed function is configured to read.
    secrets = deployment.client("secretsmanager")
    for secret_id in (env["API_KEY_SECRET"], session.outputs.api_key_secret_arn):
        secret = secrets.get_secret_value(SecretId=secret_id)
        assert json.loads(secret["SecretString"]) == {"api_keys": [session.api_key]}
    assert "[1/8]" in deployment.log() and "terraform apply" in deployment.log()


def test_task_lifecycle_over_http(deployment: Deployment) -> None:
    url, key = deployment.session.api_url, deployment.session.api_key
    prompt = f"e2e {uuid.uuid4()}"
    task_body = {"prompt": prompt, "responses": ["a", "b"], "priority": 9}
    status, request_id, created = _post(url, {"action": "create_task", "task": task_body}, key)
    assert status == HTTPStatus.CREATED, created
    task = created["task"]
    assert task["status"] == "pending" and task["prompt"] == prompt
    assert request_id

    status, _, listed = _post(url, {"action": "list_tasks", "status": "pending", "limit": 100}, key)
    assert status == HTTPStatus.OK, listed
    assert task["id"] in [t["id"] for t in listed["tasks"]]

    claim = {"action": "claim_task", "annotator_id": "e2e-annotator", "task_id": task["id"]}
    status, _, claimed = _post(url, claim, key)
    assert status == HTTPStatus.OK, claimed
    assert claimed["task"]["status"] == "assigned" and claimed["task"]["assignee"] == "e2e-annotator"

    feedback = {"preferred": 1, "rationale": "shorter"}
    submit = {"action": "submit_feedback", "task_id": task["id"], "annotator_id": "e2e-annotator", "feedback": feedback}
    status, _, submitted = _post(url, submit, key)
    assert status == HTTPStatus.OK, submitted
    assert submitted["task"]["status"] == "completed"

    status, _, fetched = _post(url, {"action": "get_task", "task_id": task["id"]}, key)
    assert status == HTTPStatus.OK, fetched
    assert fetched["task"]["status"] == "completed"
    assert fetched["task"]["feedback"]["preferred"] == 1

    # The item really is in the deployed table.
    item = deployment.client("dynamodb").get_item(
        TableName=deployment.session.outputs.dynamodb_table_name, Key={"id": {"S": task["id"]}}
    )
    assert item["Item"]["status"]["S"] == "completed"


def test_errors_keep_their_codes(deployment: Deployment) -> None:
    url, key = deployment.session.api_url, deployment.session.api_key
    status, _, body = _post(url, {"action": "list_tasks"})
    assert status == HTTPStatus.UNAUTHORIZED, body
    assert body["error"]["code"] == "missing_api_key"

    status, _, body = _post(url, {"action": "list_tasks"}, "not-the-key")
    assert status == HTTPStatus.FORBIDDEN, body

    status, _, body = _post(url, raw=b'{"action": "create_task", ', key=key)
    assert status == HTTPStatus.BAD_REQUEST, body
    assert body["error"]["code"] == "invalid_json"

    request = urllib.request.Request(url.replace("/lambda", "/elsewhere"), data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == HTTPStatus.NOT_FOUND
    assert json.loads(error.value.read())["message"] == "Not Found"


def test_every_request_is_audited_in_the_bucket(deployment: Deployment) -> None:
    url, key = deployment.session.api_url, deployment.session.api_key
    # One accepted request and two rejected ones, each audited under its own request id.
    sent = {
        _post(url, {"action": "list_tasks"}, key)[:2],
        _post(url, {"action": "list_tasks"})[:2],
        _post(url, raw=b"{not json", key=key)[:2],
    }
    assert {status for status, _ in sent} == {HTTPStatus.OK, HTTPStatus.UNAUTHORIZED, HTTPStatus.BAD_REQUEST}
    s3 = deployment.client("s3")
    bucket = deployment.session.outputs.s3_log_bucket_name
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="audit/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    for status, request_id in sent:
        mine = [k for k in keys if k.endswith(f"/{request_id}.json")]
        assert len(mine) == 1, f"audit objects for request {request_id} ({status}): {mine}"
        record = json.loads(s3.get_object(Bucket=bucket, Key=mine[0])["Body"].read())
        assert record["request_id"] == request_id and record["status"] == status
        assert record["caller"]["source_ip"] == "127.0.0.1"
        assert key not in json.dumps(record), "the API key must be redacted from the audit record"


def test_tap_import_again_claim_submit_export(deployment: Deployment, tmp_path: Path) -> None:
    """The tap command on make local: 120 tasks and 3 bad lines imported twice, 3 judged, exported."""
    tap_scenario.round_trip(deployment.session.api_url, deployment.session.api_key, tmp_path, count=120)


def test_tap_one_subcommand_per_action(deployment: Deployment) -> None:
    tap_scenario.single_actions(deployment.session.api_url, deployment.session.api_key)


def test_tap_export_resumes_after_an_interruption(deployment: Deployment, tmp_path: Path) -> None:
    tap_scenario.interrupted_export_resumes(deployment.session.api_url, deployment.session.api_key, tmp_path)


def test_tap_bad_key_and_wrong_url_are_one_line(deployment: Deployment, tmp_path: Path) -> None:
    tap_scenario.bad_key_and_wrong_url(deployment.session.api_url, deployment.session.api_key, tmp_path)


def test_request_log_lines_carry_embedded_metrics(deployment: Deployment) -> None:
    url, key = deployment.session.api_url, deployment.session.api_key
    task = {"prompt": "metrics", "responses": ["a", "b"], "priority": 9}
    assert _post(url, {"action": "create_task", "task": task}, key)[0] == HTTPStatus.CREATED
    claimed = _post(url, {"action": "claim_task", "annotator_id": "e2e-metrics"}, key)
    assert claimed[0] == HTTPStatus.OK, claimed
    assert _post(url, {"action": "list_tasks"})[0] == HTTPStatus.UNAUTHORIZED
    text = deployment.output.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"level"')]
    emf = {line["request_id"]: line for line in lines if line.get("message") == "request" and "_aws" in line}
    assert {line["Service"] for line in emf.values()} == {deployment.session.function_name}
    claim = emf[claimed[1]]
    assert claim["Action"] == "claim_task" and claim["Status2xx"] == [1.0]
    assert claim["OldestPendingTaskAgeSeconds"][0] >= 0
    assert {"create_task", "none"} <= {line["Action"] for line in emf.values()}


def _planned_table_change(paths: LocalPaths) -> dict[str, Any]:
    """``terraform plan`` of the deployed stack: the planned change of the task table."""
    env = emulator_env()
    args = ["plan", "-input=false", "-no-color", "-lock=false", "-out=check.tfplan"]
    plan = run_terraform(args, paths.stack_dir, env)
    assert plan.returncode == 0, plan.stdout[-4000:]
    shown = run_terraform(["show", "-json", "check.tfplan"], paths.stack_dir, env)
    assert shown.returncode == 0, shown.stdout[-2000:]
    changes = json.loads(shown.stdout)["resource_changes"]
    return next(c["change"] for c in changes if c["address"] == "aws_dynamodb_table.data")


def test_autoscaled_index_capacity_survives_the_next_deploy(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raise the indexes' capacity out of band, as autoscaling does, and plan again: the table
    is left as it is. The same plan with index changes switched on would set it back to 5."""
    raised = {"ReadCapacityUnits": 40, "WriteCapacityUnits": 30}
    deployment.client("dynamodb").update_table(
        TableName=deployment.session.outputs.dynamodb_table_name,
        GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": index.name, "ProvisionedThroughput": raised}} for index in contract.INDEXES
        ],
    )

    change = _planned_table_change(deployment.paths)
    assert change["actions"] == ["no-op"], change
    before = change["before"]["global_secondary_index"]
    assert {(i["read_capacity"], i["write_capacity"]) for i in before} == {(40, 30)}  # the refresh saw it

    monkeypatch.setenv("TAP_TABLE_INDEX_CHANGES", "true")
    allowed = LocalPaths(root=deployment.paths.root, outdir=deployment.paths.root / "index-changes")
    deploy.synthesize(deployment.session.endpoint, allowed)
    deploy.terraform(allowed, "init")
    change = _planned_table_change(allowed)
    assert change["actions"] == ["update"], change
    after = change["after"]["global_secondary_index"]
    assert {(i["read_capacity"], i["write_capacity"]) for i in after} == {(5, 5)}
