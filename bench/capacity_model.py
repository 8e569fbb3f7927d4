"""docs/capacity.md's arithmetic from the last mixed-load run: what each preset admits.

Reads the per-request-type costs that ``python -m bench.mixed_load`` wrote into
docs/benchmarks-mixed.md -- CPU, DynamoDB calls, and the RCU and WCU of the table and of
every index the report has columns for -- weights them by the run's mix (the export's pages
left out) and prints, as the Markdown tables docs/capacity.md shows: the costs, the mean per
request, the Lambda duration at each preset's memory, and the limits each preset meets.

    .venv/bin/python -m bench.mixed_load && .venv/bin/python -m bench.capacity_model
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.dynamodb_units import CALLS, TABLE
from bench.mixed_load import REPORT
from function import contract, model
from stacks.preset import PRESETS, Sizing

#: The cost table's CPU columns, before the calls and units.
CPU_FIELDS = ("cpu", "cpu_p50", "moto")
#: Assumed waits on AWS, ms: one DynamoDB call, the audit PUT.
DYNAMODB_MS, AUDIT_PUT_MS = 5.0, 20.0
#: One full vCPU, MB (Lambda gives CPU in proportion to memory).
FULL_VCPU_MB = 1769
#: `original`: each resource's autoscaling ceiling (stacks/database.py MAX_CAPACITY) and target.
CEILING, TARGET = 100.0, 0.70
#: On demand, what a new table serves at once (AWS's figures), and one partition key value.
ON_DEMAND_WRU, ON_DEMAND_RRU, PARTITION_WCU, PARTITION_RCU = 4000.0, 12000.0, 1000.0, 3000.0
AUDIT_PUTS = 3500.0  # S3 PUTs per second under one prefix
#: Provisioned write capacity in us-west-2, USD per WCU-hour, and hours in a month.
WCU_HOUR_USD, HOURS_A_MONTH = 0.00065, 730
#: How many values each index's partition key takes (status: the busiest value is counted).
KEY_VALUES = {"queue_shard": model.QUEUE_SHARDS}


@dataclass(frozen=True)
class Mix:
    """The run's request types (``{type: (requests, {column: mean})}``) and the mean request."""

    types: dict[str, tuple[int, dict[str, float]]]
    resources: list[str]

    @property
    def total(self) -> int:
        return sum(n for n, _ in self.types.values())

    def count(self, prefix: str) -> int:
        return sum(n for kind, (n, _) in self.types.items() if kind.startswith(prefix))

    def mean(self, column: str) -> float:
        return sum(n * c[column] for n, c in self.types.values()) / self.total


def costs(report: str) -> tuple[list[str], dict[str, tuple[int, dict[str, float]]]]:
    """(the resources the report prices, {request type: (requests, {column: mean})}) from its cost table."""
    lines = report[report.index("| request type |") :].splitlines()
    columns = [*CPU_FIELDS, *(cell.strip() for cell in lines[0].strip().strip("|").split("|")[5:])]
    resources = [c.removesuffix(" WCU") for c in columns if c.endswith(" WCU")]
    if CALLS not in columns or TABLE not in resources:
        raise ValueError(f"the cost table has no {CALLS!r} or {TABLE!r} column")
    found = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        found[cells[0]] = (int(cells[1]), dict(zip(columns, map(float, cells[2:]), strict=True)))
    return resources, found


def _table(head: list[str], rows: list[list[str]], text_columns: int = 1) -> list[str]:
    """A Markdown table, its first ``text_columns`` columns left-aligned, the rest right."""
    return [
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * text_columns + " ---: |" * (len(head) - text_columns),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _cost_tables(mix: Mix, every: dict[str, tuple[int, dict[str, float]]]) -> list[str]:
    units = [f"{r} {u}" for u in ("WCU", "RCU") for r in mix.resources]
    head = ["request type", "share of the mix", "handler CPU ms (mean, 1 core)", CALLS, *units]
    rows = [
        [f"`{kind}`", f"{100 * n / mix.total:.1f} %" if kind in mix.types else "export only", f"{c['cpu']:.2f}"]
        + [f"{c[column]:.2f}" for column in (CALLS, *units)]
        for kind, (n, c) in sorted(every.items())
    ]
    mean = ["mean", f"{mix.total:,} requests", f"{mix.mean('cpu'):.2f}", f"{mix.mean(CALLS):.2f}"]
    return _table(head, rows) + _table(
        ["per request of the mix", "", *head[2:]], [mean + [f"{mix.mean(u):.3f}" for u in units]]
    )


def _lambda_table(mix: Mix) -> list[str]:
    calls = mix.mean(CALLS)
    waits = calls * DYNAMODB_MS + AUDIT_PUT_MS
    rows = []
    for sizing in PRESETS.values():
        memory, rate = sizing.lambda_memory_mb, sizing.api_throttle_rate_limit
        cpu = mix.mean("cpu") * FULL_VCPU_MB / memory
        duration = cpu + waits
        rows.append(
            [
                f"{memory:,} MB ({sizing.preset})",
                f"{mix.mean('cpu'):.2f} × {FULL_VCPU_MB:,} / {memory:,} = {cpu:.1f} ms",
                f"{calls:.2f} × {DYNAMODB_MS:.0f} + {AUDIT_PUT_MS:.0f} = {waits:.1f} ms",
                f"**{duration:.0f} ms**",
                f"{rate:,.0f} × {duration / 1000:.3f} s = {rate * duration / 1000:.0f}",
                f"{memory / 1024 * duration / 1000:.4f}",
            ]
        )
    head = ["memory", "CPU part", "waits (assumed)", "duration", "concurrency at the stage's rate", "GB-s per request"]
    return _table(head, rows)


def _status_writes(mix: Mix) -> dict[str, float]:
    """Writes per request of the mix on each `status` value a status-keyed index changes most."""
    created, won = mix.count("create_task"), mix.count("claim_task 200")
    released, submitted = mix.count("release_task 200"), mix.count("submit_feedback 200")
    return {
        model.PENDING: (created + won + released) / mix.total,
        model.ASSIGNED: (won + released + submitted) / mix.total,
    }


def _partition_limits(mix: Mix) -> list[tuple[str, str, float]]:
    """One partition key value of each index: its writes per request of the mix, its reads at worst."""
    limits = []
    by_name = {index.name: index for index in contract.INDEXES}
    busiest, share = max(_status_writes(mix).items(), key=lambda item: item[1])
    for name in mix.resources[1:]:
        key = by_name[name].hash_key if name in by_name else None
        if key == "status":
            limits.append(
                (
                    f"one `{key}` value of `{name}` (`{busiest}`)",
                    f"{PARTITION_WCU:,.0f} WCU/s / {share:.3f}",
                    PARTITION_WCU / share,
                )
            )
            rcu = mix.mean(f"{name} RCU")
            limits.append(
                (f"`{name}` reads, all on one value", f"{PARTITION_RCU:,.0f} RCU/s / {rcu:.3f}", PARTITION_RCU / rcu)
            )
        elif key in KEY_VALUES:
            wcu = mix.mean(f"{name} WCU") / KEY_VALUES[key]
            limits.append(
                (
                    f"one `{key}` value of `{name}` (1 of {KEY_VALUES[key]})",
                    f"{PARTITION_WCU:,.0f} WCU/s / {wcu:.4f}",
                    PARTITION_WCU / wcu,
                )
            )
    return limits


def _provisioned_instead(mix: Mix, rate: float) -> str:
    """The write capacity that would carry ``rate`` requests/s of the mix provisioned, and its price."""
    needs = {resource: rate * mix.mean(f"{resource} WCU") for resource in mix.resources}
    total = sum(needs.values())
    return (
        f"provisioned instead, {rate:,.0f} requests/s need "
        + " + ".join(f"{wcu:,.0f} (`{resource}`)" for resource, wcu in needs.items())
        + f" = {total:,.0f} WCU: ${total * WCU_HOUR_USD * HOURS_A_MONTH:,.0f} a month at ${WCU_HOUR_USD} per WCU-hour"
    )


def _limits(mix: Mix, sizing: Sizing) -> list[tuple[str, str, float]]:
    """(limit, arithmetic, requests/s of the mix) for each limit ``sizing`` meets."""
    rate = sizing.api_throttle_rate_limit
    limits: list[tuple[str, str, float]] = [("stage throttle", f"{rate:,.0f} requests/s", rate)]
    for unit in ("WCU", "RCU"):
        for resource in mix.resources:
            per = mix.mean(f"{resource} {unit}")
            if not per:
                continue
            if sizing.table_on_demand:
                at_once = ON_DEMAND_WRU if unit == "WCU" else ON_DEMAND_RRU
                name = f"`{resource}` {unit[0]}RU on demand at once"
                limits.append((name, f"{at_once:,.0f} / {per:.3f}", at_once / per))
            else:
                limits.append((f"`{resource}` {unit} (ceiling)", f"{CEILING:.0f} / {per:.3f}", CEILING / per))
    if sizing.table_on_demand:
        limits += _partition_limits(mix)
        limits.append(("audit PUTs, one prefix", f"{AUDIT_PUTS:,.0f} PUT/s / 1", AUDIT_PUTS))
    return limits


def _preset_tables(mix: Mix) -> list[str]:
    won = mix.count("claim_task 200") / mix.total
    out: list[str] = []
    for sizing in PRESETS.values():
        limits = _limits(mix, sizing)
        name, _, rate = min(limits, key=lambda limit: limit[2])
        out += [f"**`{sizing.preset}`**", ""]
        out += _table(["limit", "arithmetic", "requests/s"], [[n, a, f"{v:,.0f}"] for n, a, v in limits], 2)
        admits = f"admits **{rate:,.0f} requests/s** of the mix ({rate * won:,.0f} claims/s), bound by {name}"
        if sizing.table_on_demand:
            out += [admits, "", _provisioned_instead(mix, sizing.api_throttle_rate_limit), ""]
        else:
            out += [f"{admits}; at the {TARGET * 100:.0f} % target: {rate * TARGET:,.0f} requests/s", ""]
    return out


def model_lines(report: str) -> list[str]:
    resources, every = costs(report)
    mix = Mix({kind: value for kind, value in every.items() if "(limit 100)" not in kind}, resources)
    writes = _status_writes(mix)
    return [
        *_cost_tables(mix, every),
        f"claims won {100 * mix.count('claim_task 200') / mix.total:.1f} % of the mix; writes per request on "
        + ", ".join(f"`{status}` {share:.3f}" for status, share in writes.items()),
        "",
        *_lambda_table(mix),
        *_preset_tables(mix),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPORT, help="a bench.mixed_load report")
    args = parser.parse_args(argv)
    try:
        lines = model_lines(args.report.read_text())
    except (OSError, ValueError, KeyError) as error:
        print(f"capacity_model: {args.report}: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
