"""Restoring the task table on the deployed local platform, end to end.

Uses the session's ``deployment`` (the whole stack applied to the mended emulator by
``make local``'s code path). Tasks are created through the real API; the time is noted; then
some tasks are deleted and some rewritten from a stale copy directly in the table (the
damage a bad script does), while the API keeps working: tasks are claimed and new ones
created. ``python -m restore --env local --yes`` must bring back the deleted and rewritten
tasks, keep the claims and the new tasks, delete its temporary table, and the API must
answer every request sent while it runs. The numbers are printed (``-rP``) for
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import pytest

from tests.integration.local_deployment import Deployment
from workspace.paths import PROJECT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

CREATED, DELETED, REWRITTEN, CLAIMED_AFTER, CREATED_AFTER = 60, 12, 6, 4, 5


def _post(url: str, key: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", "x-api-key": key}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _create(url: str, key: str, run: str, number: int) -> dict[str, Any]:
    task = {"prompt": f"restore {run} #{number}", "responses": ["a", "b"], "priority": number % 10}
    status, body = _post(url, key, {"action": "create_task", "task": task})
    assert status == HTTPStatus.CREATED, body
    return dict(body["task"])


class Poller(threading.Thread):
    """Reads one task over the API again and again while the restore runs."""

    def __init__(self, url: str, key: str, task_id: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.task_id = url, key, task_id
        self.statuses: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.statuses.append(_post(self.url, self.key, {"action": "get_task", "task_id": self.task_id})[0])
            time.sleep(0.02)


def test_restore_brings_back_deleted_and_rewritten_tasks_and_keeps_later_work(deployment: Deployment) -> None:
    url, key = deployment.session.api_url, deployment.session.api_key
    table = deployment.session.outputs.dynamodb_table_name
    db = deployment.client("dynamodb")
    run = uuid.uuid4().hex[:8]
    tasks = [_create(url, key, run, n) for n in range(CREATED)]
    ids = [t["id"] for t in tasks]
    before = {i: db.get_item(TableName=table, Key={"id": {"S": i}}, ConsistentRead=True)["Item"] for i in ids}
    time.sleep(0.2)
    moment = datetime.now(UTC)
    time.sleep(0.2)

    deleted, rewritten = ids[:DELETED], ids[DELETED : DELETED + REWRITTEN]
    claimed = ids[DELETED + REWRITTEN : DELETED + REWRITTEN + CLAIMED_AFTER]
    for task_id in deleted:
        db.delete_item(TableName=table, Key={"id": {"S": task_id}})
    for task_id in rewritten:  # a stale copy: same version, older updated_at, another prompt
        stale = dict(before[task_id], prompt={"S": "overwritten by a bad script"})
        db.put_item(TableName=table, Item=dict(stale, updated_at={"S": "2000-01-01T00:00:00.000000Z"}))
    for task_id in claimed:
        status, body = _post(url, key, {"action": "claim_task", "annotator_id": "restorer", "task_id": task_id})
        assert status == HTTPStatus.OK, body
    later = [_create(url, key, run, CREATED + n)["id"] for n in range(CREATED_AFTER)]
    items_before = db.describe_table(TableName=table)["Table"]["ItemCount"]
    present_before = sum(1 for i in ids if "Item" in db.get_item(TableName=table, Key={"id": {"S": i}}))

    poller = Poller(url, key, ids[-1])
    poller.start()
    started = time.monotonic()
    command = [sys.executable, "-m", "restore", "--env", "local", "--endpoint", deployment.session.endpoint]
    result = subprocess.run(
        [*command, "--to-time", moment.isoformat(), "--yes", "--poll-seconds", "0.2"],
        cwd=PROJECT,
        env=deployment.env,
        text=True,
        capture_output=True,
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started
    poller.done.set()
    poller.join(timeout=30)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr

    for task_id in deleted + rewritten:
        status, body = _post(url, key, {"action": "get_task", "task_id": task_id})
        assert status == HTTPStatus.OK, body
        assert body["task"]["prompt"] == before[task_id]["prompt"]["S"]
        assert db.get_item(TableName=table, Key={"id": {"S": task_id}}, ConsistentRead=True)["Item"] == before[task_id]
    for task_id in claimed:
        status, body = _post(url, key, {"action": "get_task", "task_id": task_id})
        assert (status, body["task"]["status"], body["task"]["assignee"]) == (HTTPStatus.OK, "assigned", "restorer")
    for task_id in later:
        assert _post(url, key, {"action": "get_task", "task_id": task_id})[0] == HTTPStatus.OK
    present_after = sum(1 for i in ids if "Item" in db.get_item(TableName=table, Key={"id": {"S": i}}))
    assert present_after == CREATED
    assert [t for t in db.list_tables()["TableNames"] if "-restore-" in t] == []
    assert poller.statuses and set(poller.statuses) == {HTTPStatus.OK}, sorted(set(poller.statuses))
    items_after = db.describe_table(TableName=table)["Table"]["ItemCount"]
    print(
        f"restore numbers: {CREATED} tasks created, {DELETED} deleted and {REWRITTEN} rewritten after the restore "
        f"time, {CLAIMED_AFTER} claimed and {CREATED_AFTER} created after it; this run's tasks in the table before "
        f"the restore {present_before}/{CREATED}, after {present_after}/{CREATED}; table items {items_before} -> "
        f"{items_after}; restore command {seconds:.2f} s; {len(poller.statuses)} API reads during it, all 200"
    )
