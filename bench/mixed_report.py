"""The report of bench/mixed_load.py: what a run measured, as docs/benchmarks-mixed.md's Markdown."""

from __future__ import annotations

import statistics
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http import HTTPStatus

from bench.dynamodb_units import CALLS, TABLE
from bench.load_cells import NO_ANSWER
from function import contract
from testkit.mixed_load import Mix, Outcome

#: The DynamoDB resources a request's units are reported for: the table and each of its indexes.
RESOURCES = (TABLE, *(index.name for index in contract.INDEXES))
#: The cost table's columns after the CPU times: calls, then RCU and WCU of each resource.
UNIT_COLUMNS = (CALLS, *(f"{r} {u}" for r in RESOURCES for u in ("RCU", "WCU")))


@dataclass
class Costs:
    """Per request type: DynamoDB units and CPU milliseconds of each request."""

    units: defaultdict[str, list[Counter[str]]] = field(default_factory=lambda: defaultdict(list))
    own_ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    moto_ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass
class Unanswered:
    """Requests of an HTTP step that got no answer, by the reason the client saw."""

    reasons: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


#: One HTTP step: client count, its mix, what it measured, the requests that got no answer.
Step = tuple[int, Mix, Outcome, Unanswered]


def _mix_lines(outcome: Outcome) -> list[str]:
    counts = outcome.statuses()
    total = sum(counts.values())
    lines = ["| action | status | requests | share |", "| --- | ---: | ---: | ---: |"]
    for (action, status), n in sorted(counts.items()):
        lines.append(f"| {action} | {status} | {n} | {100 * n / total:.1f} % |")
    return lines


def _latency_lines(outcome: Outcome) -> list[str]:
    by_action: defaultdict[str, list[float]] = defaultdict(list)
    for action, _, ms in outcome.records:
        by_action[action].append(ms)
    by_action["all"] = [ms for _, _, ms in outcome.records]
    lines = ["| action | requests | p50 ms | p95 ms | p99 ms | max ms |", "| --- |" + " ---: |" * 5]
    for action, values in sorted(by_action.items()):
        lines.append(
            f"| {action} | {len(values)} | {percentile(values, 0.5):.1f} | {percentile(values, 0.95):.1f} "
            f"| {percentile(values, 0.99):.1f} | {max(values):.1f} |"
        )
    return lines


def _cost_lines(costs: Costs) -> list[str]:
    lines = [
        f"| request type | requests | handler CPU ms mean | p50 | moto CPU ms mean | {' | '.join(UNIT_COLUMNS)} |",
        "| --- | ---: | ---: | ---: | ---: |" + " ---: |" * len(UNIT_COLUMNS),
    ]
    for kind in sorted(costs.units):
        units = costs.units[kind]
        means = [statistics.fmean(u[column] for u in units) for column in UNIT_COLUMNS]
        lines.append(
            f"| {kind} | {len(units)} | {statistics.fmean(costs.own_ms[kind]):.2f} "
            f"| {percentile(costs.own_ms[kind], 0.5):.2f} | {statistics.fmean(costs.moto_ms[kind]):.2f} | "
            + " | ".join(f"{m:.2f}" for m in means)
            + " |"
        )
    return lines


def _step_lines(steps: list[Step]) -> list[str]:
    lines = [
        "| clients | tasks | requests | 2xx | 4xx | 5xx | no answer (why) | p50 ms | p95 ms | p99 ms | req/s "
        "| lost, doubled or unfinished |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for clients, mix, outcome, unanswered in steps:
        lost = sum(unanswered.reasons.values())
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(unanswered.reasons.items()))
        failed = sum(1 for _, status, _ in outcome.records if HTTPStatus.INTERNAL_SERVER_ERROR <= status < NO_ANSWER)
        classes = Counter(status // 100 for _, status, _ in outcome.records)
        ms = [m for _, _, m in outcome.records]
        problems = [p for p in outcome.problems() if not p.startswith("answers 5xx")]
        lines.append(
            f"| {clients} | {mix.tasks} | {len(ms)} | {classes[2]} | {classes[4]} "
            f"| {failed} | {f'{lost} ({why})' if lost else 0} "
            f"| {percentile(ms, 0.5):.0f} | {percentile(ms, 0.95):.0f} | {percentile(ms, 0.99):.0f} "
            f"| {len(ms) / outcome.wall_seconds:.1f} | {'; '.join(problems) or 'none'} |"
        )
    return lines


def render(inproc: tuple[Mix, Outcome, Costs] | None, steps: list[Step], notes: list[str]) -> str:
    lines = [
        "# Mixed-load benchmark",
        "",
        "Measured by `python -m bench.mixed_load` (roles and proportions: `testkit/mixed_load.py`; why: "
        '[capacity.md](capacity.md), "Mixed load"). Latencies are this machine\'s, in process or over loopback '
        "HTTP, with every client thread, the handler and moto sharing 2 cores: **not AWS figures**.",
        "",
        *notes,
        "",
    ]
    if inproc:
        mix, outcome, costs = inproc
        lines += [
            f"## In process: {mix.clients} clients ({mix.producers} producers, {mix.annotators} annotators, "
            f"{mix.viewers} viewers), {mix.tasks} tasks",
            "",
            f"{len(outcome.records)} requests in {outcome.wall_seconds:.1f} s "
            f"({len(outcome.records) / outcome.wall_seconds:.1f} requests/s); created {len(outcome.created)}, "
            f"exported {len(outcome.exported)} (completed, through `list_tasks` pages), still pending or assigned "
            f"{outcome.unfinished}. Lost, doubled, wrong feedback or 5xx: "
            f"**{'; '.join(outcome.problems()) or 'none'}**.",
            "",
            "The requests the roles made:",
            "",
            *_mix_lines(outcome),
            "",
            "Handler latency (wall time of `Runtime.handle` in process: with 1,000 threads on 2 cores it is "
            "mostly waiting for the interpreter and the moto lock):",
            "",
            *_latency_lines(outcome),
            "",
            "Cost per request type: CPU is the request thread's CPU time (`time.thread_time`), the handler's "
            "own after subtracting what moto spent serving its AWS calls; DynamoDB calls and units are means per "
            "request (bench/dynamodb_units.py: DynamoDB's rules applied to the items moto holds).",
            "",
            *_cost_lines(costs),
            "",
        ]
    if steps:
        clean = [clients for clients, _, outcome, _ in steps if not outcome.problems()]
        last, _, failed, _ = steps[-1]
        why = "; ".join(failed.problems())
        after = f" (the next step, {last}, failed: {why})." if why else " (the highest step tried)."
        lines += [
            "## Over HTTP on the local platform, client counts stepped up",
            "",
            "A private copy of `make local` (moto server, local API server, the real handler), the same mix; "
            "each step's tasks are exported and checked like the in-process run's.",
            "",
            *_step_lines(steps),
            "",
            f"Largest client count served without an error: **{max(clean) if clean else 'none'}**{after}",
            "",
        ]
    return "\n".join(lines)
