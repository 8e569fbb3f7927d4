"""The Markdown report of the local load benchmark; every sentence in it is computed from the cells."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus

import boto3
import moto

from bench.load_cells import Cell

#: A change in throughput within this share counts as "about the same".
STEADY_SHARE = 0.10


@dataclass(frozen=True)
class RunInfo:
    requests: int
    started: str
    duration_seconds: float


def _success(status: int) -> bool:
    return HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES


def _find(cells: Sequence[Cell], action: str, clients: int, path: str) -> Cell | None:
    return next((c for c in cells if (c.action, c.clients, c.path) == (action, clients, path)), None)


def _change(before: float, after: float) -> str:
    if before <= 0:
        return "n/a"
    share = after / before - 1
    if abs(share) <= STEADY_SHARE:
        return f"about the same ({share:+.0%})"
    return f"{'up' if share > 0 else 'down'} {abs(share):.0%}"


def scaling_lines(cells: Sequence[Cell], actions: Sequence[str]) -> list[str]:
    """Per action over HTTP: p50 and throughput at the fewest and the most clients."""
    counts = sorted({c.clients for c in cells})
    if not counts or counts[0] == counts[-1]:
        return []  # a change needs two client counts
    low, high = counts[0], counts[-1]
    lines = [f"From {low} to {high} concurrent clients (`http` rows):", ""]
    for action in actions:
        first, last = _find(cells, action, low, "http"), _find(cells, action, high, "http")
        if first is None or last is None:
            continue
        ratio = last.percentile(50) / first.percentile(50) if first.percentile(50) else float("nan")
        lines.append(
            f"- `{action}`: p50 {first.percentile(50):.1f} → {last.percentile(50):.1f} ms (×{ratio:.1f}); "
            f"throughput {first.throughput:.1f} → {last.throughput:.1f} req/s, "
            f"{_change(first.throughput, last.throughput)}"
        )
    return [*lines, ""]


def http_overhead_lines(cells: Sequence[Cell], actions: Sequence[str]) -> list[str]:
    """At the fewest clients: p50 over HTTP minus p50 in-process, per action."""
    low = min((c.clients for c in cells), default=0)
    parts = []
    for action in actions:
        over, direct = _find(cells, action, low, "http"), _find(cells, action, low, "in-process")
        if over is not None and direct is not None:
            parts.append(
                f"`{action}` {over.percentile(50) - direct.percentile(50):+.1f} ms "
                f"({over.percentile(50):.1f} vs {direct.percentile(50):.1f})"
            )
    if not parts:
        return []
    return [f"HTTP's share of the p50 latency at {low} client(s) (`http` minus `in-process`): {'; '.join(parts)}.", ""]


def contention_lines(cells: Sequence[Cell]) -> list[str]:
    """How many claims lost the race (409), per client count and path."""
    claims = [c for c in cells if c.action == "claim" and c.latencies_ms]
    if not claims:
        return []
    parts = [
        f"{c.statuses.get(HTTPStatus.CONFLICT, 0) / len(c.latencies_ms):.0%} at {c.clients} client(s) ({c.path})"
        for c in claims
    ]
    twice = sum(c.twice for c in claims)
    return [
        f"Claims answered `409 claim_contention`: {'; '.join(parts)}. Tasks handed to two successful claims: {twice}.",
        "",
    ]


def markdown(cells: Sequence[Cell], actions: Sequence[str], run: RunInfo) -> str:
    lines = [
        "# Local end-to-end benchmark",
        "",
        "Measured by `bench/local_load.py` against the local platform (`make local`: moto emulator,",
        "local API server, real handler). Client threads, API server, handler and emulator share",
        "this one machine, so the numbers describe the local platform, not AWS (see",
        "[capacity.md](capacity.md) for AWS).",
        "",
        f"- measured: {run.started} UTC, {run.duration_seconds:.0f} s in all",
        f"- machine: {os.cpu_count()} cores (`os.cpu_count()`), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, moto {moto.__version__}, boto3 {boto3.__version__}",
        f"- {run.requests} requests per row (fewer if a row hit its time limit); keep-alive HTTP/1.1 on 127.0.0.1",
        "- `http`: client → HTTP → local API server → handler → emulator; "
        "`in-process`: the same proxy event straight to `lambda_handler`",
        "- latency in milliseconds per request, throughput in completed requests per second; "
        "`non-2xx` counts answers outside 200-299; `tasks` is how many tasks the benchmark had "
        "created before the row started (they all stay in the table)",
        "",
        "| action | clients | path | tasks | requests | non-2xx | p50 ms | p95 ms | p99 ms | req/s |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cell in cells:
        detail = ""
        if cell.rejected:
            failed = sorted(
                (s, n) for s, n in cell.statuses.items() if not HTTPStatus.OK <= s < HTTPStatus.MULTIPLE_CHOICES
            )
            detail = " (" + ", ".join(f"{s}×{n}" for s, n in failed) + ")"
        lines.append(
            f"| {cell.action} | {cell.clients} | {cell.path} | {cell.tasks_before} | {len(cell.latencies_ms)} | "
            f"{cell.rejected}{detail} | {cell.percentile(50):.1f} | {cell.percentile(95):.1f} | "
            f"{cell.percentile(99):.1f} | {cell.throughput:.1f} |"
        )
    lines += [
        "",
        *scaling_lines(cells, actions),
        *http_overhead_lines(cells, actions),
        *contention_lines(cells),
        "Rows ran client count by client count, action by action, `http` first. `claim` asks for",
        "the next task (`claim_task` without `task_id`), so concurrent claimers race for the head of",
        "the queue; a claimer that loses all its attempts gets `409 claim_contention`.",
        "",
        "Reproduce: `make local` in one terminal, then `.venv/bin/python -m bench.local_load` in another",
        "(or `python -m bench.local_load --deploy` to deploy, measure and discard a private copy).",
        "",
    ]
    return "\n".join(lines)
