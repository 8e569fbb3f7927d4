"""Helpers for driving the ``tap`` command from tests and benchmarks (as cdktf's ``Testing``
is for stacks): run ``python -m tap`` against a served API as a separate process, timed;
generate tasks to import; read back what an export wrote; claim and judge tasks.

Used by tests/integration/tap_scenario.py (the e2e scenarios on the deployed local platform)
and by bench/tap_bench.py (the timed bulk import and export). Checks fail with
``AssertionError``, as in a test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from workspace.paths import PROJECT

#: The repository root: ``python -m tap`` runs there, so it imports the checkout's ``tap``.

#: The task kinds :func:`task_lines` cycles through, and a valid judgement for each.
KINDS: Final = ("pairwise", "ranking", "rating")
FEEDBACK: Final[dict[str, dict[str, Any]]] = {
    "pairwise": {"preferred": 1},
    "ranking": {"ranking": [1, 0]},
    "rating": {"ratings": [3, 6]},
}
#: Long enough for a benchmark's import or export of 10,000 lines.
TIMEOUT: Final = 3600.0
_SUMMARY = re.compile(r"created (\d+) · already there (\d+) · rejected (\d+)")


@dataclass
class Run:
    """One finished ``tap`` process: its exit status, output and wall time."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def counts(self) -> tuple[int, int, int]:
        """(created, already there, rejected) from the import's last summary line."""
        found = _SUMMARY.findall(self.stderr)
        assert found, self.stderr
        created, existing, rejected = found[-1]
        return int(created), int(existing), int(rejected)


def tap_command(url: str, key: str, *args: str) -> list[str]:
    """The argv of ``python -m tap --url URL --api-key=KEY ARGS`` (run it from :data:`PROJECT`)."""
    return [sys.executable, "-m", "tap", "--url", url, f"--api-key={key}", *args]


def tap(url: str, key: str, *args: str, timeout: float = TIMEOUT) -> Run:
    """``python -m tap`` as a separate process in the project folder, timed."""
    started = time.perf_counter()
    result = subprocess.run(
        tap_command(url, key, *args), cwd=PROJECT, text=True, capture_output=True, timeout=timeout, check=False
    )
    return Run(result.returncode, result.stdout, result.stderr, time.perf_counter() - started)


def new_run_id() -> str:
    """A fresh tag for one run's tasks (their ``metadata.run``), so runs never mix."""
    return f"run-{uuid.uuid4().hex[:12]}"


def task_lines(count: int, run_id: str) -> list[dict[str, Any]]:
    """``count`` distinct tasks tagged with ``run_id`` (kinds and priorities mixed)."""
    return [
        {"prompt": f"{run_id} prompt {i}: which reply is clearer?", "responses": [f"reply A{i}", f"reply B{i}"],
         "kind": KINDS[i % 3], "priority": i % 10, "metadata": {"run": run_id, "line": i}}
        for i in range(count)
    ]  # fmt: skip


def write_jsonl(path: Path, tasks: list[dict[str, Any]], extra: dict[int, str] | None = None) -> None:
    """The tasks one per line; ``extra`` inserts raw lines before the given 0-based task index."""
    lines = []
    for i, task in enumerate(tasks):
        if extra and i in extra:
            lines.append(extra[i])
        lines.append(json.dumps(task))
    path.write_text("\n".join(lines) + "\n")


def exported(path: Path, run_id: str) -> list[dict[str, Any]]:
    """The records of a ``tap export`` file that belong to the run ``run_id``."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in records if r["metadata"].get("run") == run_id]


def claim_and_submit(url: str, key: str, task_ids: list[str], kinds: dict[str, str]) -> dict[str, str]:
    """Claim each task by id with ``tap claim`` and judge it with ``tap submit`` (a valid
    judgement for its kind); returns task id -> annotator."""
    annotators = {}
    for n, task_id in enumerate(task_ids):
        annotator = f"annotator-{n}"
        claimed = tap(url, key, "claim", "--annotator", annotator, "--task-id", task_id)
        assert claimed.returncode == 0, claimed.stderr
        assert json.loads(claimed.stdout)["task"]["assignee"] == annotator
        feedback = json.dumps(FEEDBACK[kinds[task_id]])
        submitted = tap(url, key, "submit", task_id, "--annotator", annotator, "--feedback", feedback)
        assert submitted.returncode == 0, submitted.stderr
        annotators[task_id] = annotator
    return annotators
