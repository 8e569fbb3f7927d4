"""``tap`` in process against the real handler over HTTP: each subcommand, an import run
twice, exports of both statuses, a refused key, a wrong path, and ``--stack``."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from tap.exporter import RECORD_FIELDS
from testkit.tap import FEEDBACK, new_run_id, task_lines, write_jsonl
from tests.tap.conftest import Run, Served

Tap = Callable[..., Run]
BAD_INPUT, REFUSED = 2, 1


def test_one_subcommand_per_action(api: Tap) -> None:
    token = new_run_id()
    created = api("create", "--kind", "ranking", "--priority", "9", "--client-token", token, "--prompt", "p?",
                  "--response", "A", "--response", "B", "--response", "C", "--metadata", '{"n": 1}')  # fmt: skip
    assert created.status == 0, created.err
    task = created.json()["task"]
    assert (task["prompt"], task["kind"], task["priority"], task["metadata"]) == ("p?", "ranking", 9, {"n": 1})
    assert api("get", task["id"]).json()["task"] == task
    claimed = api("claim", "--annotator", "solo", "--task-id", task["id"]).json()["task"]
    assert claimed["status"] == "assigned"
    taken = api("release", task["id"], "--annotator", "someone-else")
    assert taken.status == REFUSED and taken.line().startswith("tap: 409 task_assigned: cannot release task")
    released = api("release", task["id"], "--annotator", "solo").json()["task"]
    assert released["status"] == "pending" and "assignee" not in released
    page = api("list", "--status", "pending", "--limit", "100").json()
    assert task["id"] in [t["id"] for t in page["tasks"]]
    api("claim", "--annotator", "solo", "--task-id", task["id"])
    judged = api("submit", task["id"], "--annotator", "solo", "--feedback", '{"ranking": [2, 0, 1]}')
    assert judged.status == 0 and judged.json()["task"]["status"] == "completed", judged.err


def test_import_twice_then_export_both_statuses(api: Tap, tmp_path: Path) -> None:
    run_id, count = new_run_id(), 25
    tasks = task_lines(count, run_id)
    source = tmp_path / "tasks.jsonl"
    bad = {3: "not json", 10: '{"prompt": "no responses"}', 20: '{"prompt": "p", "responses": ["only one"]}'}
    write_jsonl(source, tasks, bad)
    number = {text: n for n, text in enumerate(source.read_text().splitlines(), start=1)}
    first = api("import", str(source))
    assert (
        first.status == REFUSED
        and f"created {count} · already there 0 · rejected 3 (of {count + 3} lines)" in first.err
    )
    assert f"line {number['not json']}: not JSON: Expecting value at column 1" in first.err
    assert f"line {number[bad[10]]}: missing field: responses" in first.err
    assert re.search(
        rf"line {number[bad[20]]}: 400 invalid_field: task.responses .*\(request id [0-9a-f-]+\)", first.err
    )
    assert sorted((tmp_path / "tasks.jsonl.rejected.jsonl").read_text().splitlines()) == sorted(bad.values())
    again = api("import", str(source), "--concurrency", "3")
    assert f"created 0 · already there {count} · rejected 3" in again.err

    pending = tmp_path / "pending.jsonl"
    assert api("export", "--status", "pending", "-o", str(pending), "--page-size", "7").status == 0
    records = [json.loads(line) for line in pending.read_text().splitlines()]
    by_line = {r["metadata"]["line"]: r for r in records if r["metadata"].get("run") == run_id}
    assert sorted(by_line) == list(range(count)) and len({r["task_id"] for r in records}) == len(records)
    for i, task in enumerate(tasks):
        assert {k: by_line[i][k] for k in task} == task and by_line[i]["feedback"] is None

    judged = by_line[0]["task_id"]
    api("claim", "--annotator", "ann-0", "--task-id", judged)
    feedback = FEEDBACK[tasks[0]["kind"]]
    assert api("submit", judged, "--annotator", "ann-0", "--feedback", json.dumps(feedback)).status == 0
    completed = tmp_path / "completed.jsonl"
    done = api("export", "-o", str(completed))
    assert done.status == 0 and not (tmp_path / "completed.jsonl.export-state.json").exists()
    record = next(json.loads(line) for line in completed.read_text().splitlines() if judged in line)
    assert list(record) == list(RECORD_FIELDS)
    assert (record["status"], record["feedback"], record["annotator"]) == ("completed", feedback, "ann-0")


def test_a_refused_key_stops_an_import_and_fails_a_call(served: Served, tap: Tap, tmp_path: Path) -> None:
    source = tmp_path / "tasks.jsonl"
    write_jsonl(source, task_lines(5, new_run_id()))
    stopped = tap("--url", served.url, "--api-key", "revoked-key", "import", str(source))
    assert stopped.status == BAD_INPUT and "Traceback" not in stopped.err
    assert re.search(r"tap: import stopped: 403 invalid_api_key: .*\(request id [0-9a-f-]+\)", stopped.err)
    assert "created 0 · already there 0" in stopped.err
    single = tap("--url", served.url, "--api-key", "revoked-key", "list")
    assert single.status == REFUSED and single.line().startswith("tap: 403 invalid_api_key:")


def test_a_wrong_path_is_one_line(served: Served, tap: Tap) -> None:
    wrong = tap("--url", served.url.replace("/lambda", "/lambada"), "--api-key", served.key, "list")
    assert wrong.status == BAD_INPUT and wrong.line().startswith("tap: 404: gateway: Not Found")


@pytest.mark.terraform
def test_stack_reads_terraform_outputs_and_the_key_secret(served: Served, tap: Tap, tmp_path: Path) -> None:
    """``--stack`` in a checkout: the URL from ``terraform output``, the key from Secrets Manager."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    arn = boto3.client("secretsmanager", region_name="us-west-2").create_secret(
        Name=f"tap-cli-stack-{new_run_id()}", SecretString=json.dumps({"api_keys": [served.key]})
    )["ARN"]
    (tmp_path / "cdktf.json").write_text("{}")
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "demo"
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text("{}")
    outputs = {"api_invoke_url": served.url, "api_key_secret_arn": arn}
    (stack_dir / "terraform.tfstate").write_text(json.dumps({
        "version": 4, "terraform_version": "1.10.0", "serial": 1, "lineage": "3f9c1a52-0000-4000-8000-000000000000",
        "outputs": {name: {"value": value, "type": "string"} for name, value in outputs.items()}, "resources": [],
    }))  # fmt: skip
    result = tap("--stack", "demo", "list", "--limit", "1")
    assert result.status == 0, result.err
    assert isinstance(result.json()["tasks"], list)
