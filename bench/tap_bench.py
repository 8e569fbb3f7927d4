"""Bulk import and export through the ``tap`` command against the local platform, timed.

Imports a generated JSONL file (10,000 lines by default) with ``tap import``, imports it
again (nothing may be created), claims and judges a few tasks with ``tap claim`` /
``tap submit``, exports the pending and the completed tasks with ``tap export`` and compares
both exports with the source file. Writes docs/benchmarks-tap.md. The helpers that run ``tap``
and make and read its files are in testkit/tap.py (shared with the e2e tests).

    # against a running `make local` (reads .local/session.json)
    .venv/bin/python -m bench.tap_bench
    # or deploy a private copy, measure, discard it
    .venv/bin/python -m bench.tap_bench --deploy
    # quick run
    .venv/bin/python -m bench.tap_bench --lines 500 --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench.local_load import Target
from testkit.tap import FEEDBACK, Run, claim_and_submit, exported, new_run_id, tap, task_lines, write_jsonl

ROOT = Path(__file__).resolve().parent.parent

REPORT = ROOT / "docs" / "benchmarks-tap.md"
JUDGED = 5


def _row(rows: list[tuple[str, int, float, str]], step: str, items: int, seconds: float, result: str) -> None:
    """Record a measured step and show it at once (a later step may still fail)."""
    rows.append((step, items, seconds, result))
    print(f"measured: {step}: {items} items in {seconds:.1f} s ({items / seconds:.0f}/s): {result}", flush=True)


def _check(run: Run, what: str) -> Run:
    if run.returncode != 0:
        raise SystemExit(f"bench: {what} failed (exit {run.returncode}):\n{run.stderr[-2000:]}")
    return run


def measure(url: str, key: str, lines: int, concurrency: int, work: Path) -> list[tuple[str, int, float, str]]:
    """Rows of (step, items, seconds, result)."""
    run_id = new_run_id()
    tasks = task_lines(lines, run_id)
    source = work / "tasks.jsonl"
    write_jsonl(source, tasks)
    rows: list[tuple[str, int, float, str]] = []
    first = _check(tap(url, key, "import", str(source), "--concurrency", str(concurrency)), "import")
    created, existing, rejected = first.counts()
    # A request retried after its answer was lost finds its task already there: still one task.
    assert created + existing == lines and rejected == 0, first.stderr
    retried = f", already there {existing} (retried after a lost answer)" if existing else ""
    _row(rows, "import (first run)", lines, first.seconds, f"created {created}{retried}")
    again = _check(tap(url, key, "import", str(source), "--concurrency", str(concurrency)), "import again")
    assert again.counts() == (0, lines, 0), again.stderr
    _row(rows, "import again (same file)", lines, again.seconds, f"created 0, already there {lines}")

    pending = work / "pending.jsonl"
    before = tap(url, key, "export", "--status", "pending", "-o", str(pending))
    if before.returncode != 0:
        # Reported, not hidden: the rest needs the export (see docs/benchmarks.md on the emulator).
        reason = before.stderr.strip().splitlines()[-1] if before.stderr.strip() else f"exit {before.returncode}"
        _row(rows, "export --status pending", 0, before.seconds, f"failed: {reason}")
        return rows
    by_line = {r["metadata"]["line"]: r for r in exported(pending, run_id)}
    assert sorted(by_line) == list(range(lines)), "the pending export must hold every imported task once"
    assert all({k: by_line[i][k] for k in task} == task for i, task in enumerate(tasks)), "export differs from file"
    total = len(pending.read_text().splitlines())
    _row(rows, "export --status pending", total, before.seconds, f"all {lines} imported tasks, equal to the file")

    judged = [by_line[i]["task_id"] for i in range(JUDGED)]
    annotators = claim_and_submit(url, key, judged, {by_line[i]["task_id"]: tasks[i]["kind"] for i in range(JUDGED)})
    completed = work / "completed.jsonl"
    after = _check(tap(url, key, "export", "-o", str(completed)), "export completed")
    records = {r["task_id"]: r for r in exported(completed, run_id)}
    assert sorted(records) == sorted(judged), "the completed export must hold exactly the judged tasks"
    for i, task_id in enumerate(judged):
        assert records[task_id]["feedback"] == FEEDBACK[tasks[i]["kind"]]
        assert records[task_id]["annotator"] == annotators[task_id]
    done = len(completed.read_text().splitlines())
    _row(rows, "export --status completed", done, after.seconds, f"the {JUDGED} judged tasks with feedback")
    return rows


def markdown(rows: list[tuple[str, int, float, str]], lines: int, concurrency: int, started: str) -> str:
    out = [
        "# Bulk import and export with `tap`",
        "",
        "Measured by `bench/tap_bench.py` against the local platform (`make local`: moto emulator,",
        "local API server, real handler), with the `tap` command run as a separate process. Client,",
        "server, handler and emulator share this machine; these are local numbers, not AWS's.",
        "",
        f"- measured: {started} UTC; {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
        f"- source: {lines} generated lines (pairwise, ranking and rating tasks, priorities 0-9); "
        f"`tap import --concurrency {concurrency}`; export pages of 100",
        "- seconds are wall time of the whole `tap` process (start-up included); items/s = items / seconds",
        "",
        "| step | items | seconds | items/s | result |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    out += [
        f"| {step} | {items} | {seconds:.1f} | {items / seconds:.0f} | {result} |"
        for step, items, seconds, result in rows
    ]
    out += [
        "",
        "`export --status pending` pages through every pending task in the table, including any left by",
        "earlier runs, so its item count can exceed the file's. After the export the bench claims and",
        f"judges {JUDGED} tasks with `tap claim` / `tap submit`, then checks both exports against the",
        "source file and the judgements.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deploy", action="store_true", help="deploy a private copy, measure, discard it")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-write", action="store_true", help=f"print only; do not write {REPORT.name}")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    target = Target(args.deploy)
    try:
        with tempfile.TemporaryDirectory(prefix="tap-bench-") as work:
            rows = measure(target.url, target.session.api_key, args.lines, args.concurrency, Path(work))
        report = markdown(rows, args.lines, args.concurrency, started)
        print(report, flush=True)
        if not args.no_write:
            REPORT.write_text(report)
            print(f"written to {REPORT.relative_to(ROOT)}", flush=True)
    finally:
        target.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
