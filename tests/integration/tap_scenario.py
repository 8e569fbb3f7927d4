"""The ``tap`` command against a served API: import, import again, claim and submit a few,
export, compare; each single action; an interrupted export resumed; a bad key and a wrong URL.
Used by test_local_e2e.py (on the deployed local platform). The helpers that run ``tap`` and
make and read its files are in testkit/tap.py (bench/tap_bench.py uses them too)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

from tap.exporter import RECORD_FIELDS
from testkit.tap import FEEDBACK, claim_and_submit, exported, new_run_id, tap, tap_command, task_lines, write_jsonl
from workspace.paths import PROJECT

#: Exit statuses of tap (see docs/cli.md) and how far an export runs before the Ctrl-C.
INTERRUPTED, BAD_INPUT, INTERRUPT_AFTER = 130, 2, 20


def round_trip(url: str, key: str, tmp_path: Path, count: int) -> None:
    """``count`` tasks and 3 bad lines imported twice, 3 tasks judged, both statuses exported."""
    run_id = new_run_id()
    tasks = task_lines(count, run_id)
    source = tmp_path / "tasks.jsonl"
    bad = {7: "not json", 30: '{"prompt": "no responses"}', 50: '{"prompt": "p", "responses": ["only one"]}', 60: ""}
    write_jsonl(source, tasks, bad)
    number = {text: n for n, text in enumerate(source.read_text().splitlines(), start=1)}

    first = tap(url, key, "import", str(source))
    created, existing, rejected = first.counts()
    # "already there" on a first run only when a create was retried after its answer was lost.
    assert first.returncode == 1 and (created + existing, rejected) == (count, 3), first.stderr
    assert f"line {number['not json']}: not JSON: Expecting value at column 1" in first.stderr
    assert f"line {number[bad[30]]}: missing field: responses" in first.stderr
    assert re.search(
        rf"line {number[bad[50]]}: 400 invalid_field: task.responses .*\(request id [0-9a-f-]+\)", first.stderr
    )
    rejected = source.with_name("tasks.jsonl.rejected.jsonl").read_text().splitlines()
    assert sorted(rejected) == sorted(bad[i] for i in (7, 30, 50))
    again = tap(url, key, "import", str(source), "--concurrency", "3")
    assert again.counts() == (0, count, 3), again.stderr

    pending = tmp_path / "pending.jsonl"
    assert tap(url, key, "export", "--status", "pending", "-o", str(pending)).returncode == 0
    by_line = {r["metadata"]["line"]: r for r in exported(pending, run_id)}
    assert sorted(by_line) == list(range(count)), "every imported task exactly once"
    for i, task in enumerate(tasks):
        assert {k: by_line[i][k] for k in task} == task and by_line[i]["feedback"] is None

    judged = [by_line[i]["task_id"] for i in range(3)]
    annotators = claim_and_submit(url, key, judged, {by_line[i]["task_id"]: tasks[i]["kind"] for i in range(3)})
    completed = tmp_path / "completed.jsonl"
    assert tap(url, key, "export", "-o", str(completed)).returncode == 0
    records = {r["task_id"]: r for r in exported(completed, run_id)}
    assert sorted(records) == sorted(judged)
    for i, task_id in enumerate(judged):
        record = records[task_id]
        assert list(record) == list(RECORD_FIELDS)
        assert (record["status"], record["prompt"], record["responses"]) == (
            "completed",
            tasks[i]["prompt"],
            tasks[i]["responses"],
        )
        assert record["feedback"] == FEEDBACK[tasks[i]["kind"]] and record["annotator"] == annotators[task_id]
        assert record["completed_at"] >= record["created_at"]


def interrupted_export_resumes(url: str, key: str, tmp_path: Path) -> None:
    """Ctrl-C an export of the pending tasks midway; the same command again completes it:
    every task once, as a fresh export lists them. Imports its own 60 tasks first, so there
    are pages to interrupt whatever ran before."""
    source = tmp_path / "tasks.jsonl"
    write_jsonl(source, task_lines(60, new_run_id()))
    created, existing, _ = tap(url, key, "import", str(source)).counts()
    assert created + existing == 60
    output = tmp_path / "resumed.jsonl"
    state = tmp_path / "resumed.jsonl.export-state.json"
    options = f"export --status pending --page-size 5 -o {output}".split()
    command = tap_command(url, key, *options)
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if state.is_file() and json.loads(state.read_text() or "{}").get("count", 0) >= INTERRUPT_AFTER:
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.01)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == INTERRUPTED and "run the same command again to resume" in stderr, stderr
    assert state.is_file()
    resumed = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0 and "resumed after" in resumed.stderr, resumed.stderr
    assert not state.exists()
    fresh = tmp_path / "fresh.jsonl"
    assert tap(url, key, "export", "--status", "pending", "-o", str(fresh)).returncode == 0
    ids = [json.loads(line)["task_id"] for line in output.read_text().splitlines()]
    assert len(ids) == len(set(ids)), "no task written twice"
    assert ids == [json.loads(line)["task_id"] for line in fresh.read_text().splitlines()]


def bad_key_and_wrong_url(url: str, key: str, tmp_path: Path) -> None:
    """A key not in the secret stops an import at once; a wrong path is one line."""
    source = tmp_path / "tasks.jsonl"
    write_jsonl(source, task_lines(5, new_run_id()))
    refused = tap(url, "revoked-key", "import", str(source))
    assert refused.returncode == BAD_INPUT and "Traceback" not in refused.stderr
    assert re.search(r"tap: import stopped: 403 invalid_api_key: .*\(request id [0-9a-f-]+\)", refused.stderr)
    assert "created 0 · already there 0" in refused.stderr
    single = tap(url, "revoked-key", "list")
    assert single.returncode == 1 and single.stderr.count("\n") == 1 and "403 invalid_api_key" in single.stderr
    wrong = tap(url.replace("/lambda", "/lambada"), key, "list")
    assert wrong.returncode == BAD_INPUT and wrong.stderr.startswith("tap: 404: gateway: Not Found"), wrong.stderr


def single_actions(url: str, key: str) -> None:
    """create, get, claim, release and list, one subcommand each, answers as the API's JSON."""
    token = new_run_id()
    prompt = f"{token} single"
    create = [*f"create --kind ranking --priority 9 --client-token {token}".split(), "--prompt", prompt]
    created = tap(url, key, *create, "--response", "A", "--response", "B", "--response", "C", "--metadata", '{"n": 1}')
    assert created.returncode == 0, created.stderr
    task = json.loads(created.stdout)["task"]
    assert (task["prompt"], task["kind"], task["priority"], task["metadata"]) == (prompt, "ranking", 9, {"n": 1})
    fetched = json.loads(tap(url, key, "get", task["id"]).stdout)["task"]
    assert fetched == task
    claimed = json.loads(tap(url, key, "claim", "--annotator", "solo", "--task-id", task["id"]).stdout)["task"]
    assert claimed["status"] == "assigned"
    taken = tap(url, key, "release", task["id"], "--annotator", "someone-else")
    assert taken.returncode == 1 and taken.stderr.startswith("tap: 409 task_assigned: cannot release task")
    released = json.loads(tap(url, key, "release", task["id"], "--annotator", "solo").stdout)["task"]
    assert released["status"] == "pending" and "assignee" not in released
    page = json.loads(tap(url, key, "list", "--status", "pending", "--limit", "100").stdout)
    assert task["id"] in [t["id"] for t in page["tasks"]]
