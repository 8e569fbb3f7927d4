"""docs/capacity.md's arithmetic from the last mixed-load run: what each preset admits.

Reads the per-request-type costs that ``python -m bench.mixed_load`` wrote into
docs/benchmarks-mixed.md, weights them by the run's mix (the export's pages left out) and
prints the tables docs/capacity.md shows: the costs, the mean per request, the Lambda
duration at each preset's memory and the limits each preset's request rate meets.

    .venv/bin/python -m bench.mixed_load && .venv/bin/python -m bench.capacity_model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.mixed_load import REPORT

#: Cost columns of the report's table, in order.
FIELDS = ("cpu", "cpu_p50", "moto", "table RCU", "table WCU", "created RCU", "created WCU", "queue RCU", "queue WCU")
#: DynamoDB calls per request type, from docs/api.md's call sequences (not measured).
CALLS = {"claim_task 200": 2, "claim_task 404": 2, "claim_task 409": 4}
#: Assumed waits on AWS, ms: one DynamoDB call, the audit PUT.
DYNAMODB_MS, AUDIT_PUT_MS = 5.0, 20.0
#: One full vCPU, MB (Lambda gives CPU in proportion to memory).
FULL_VCPU_MB = 1769
#: (preset, memory MB, stage rate) as stacks/preset.py sets them.
PRESETS = (("original", 256, 100.0), ("scale", 1024, 3000.0))


def costs(report: str) -> dict[str, tuple[int, dict[str, float]]]:
    """{request type: (requests, {field: mean})} from the report's cost table."""
    table = report[report.index("| request type |") :].splitlines()[2:]
    found = {}
    for line in table:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        found[cells[0]] = (int(cells[1]), dict(zip(FIELDS, map(float, cells[2:]), strict=True)))
    return found


def model(report: str) -> list[str]:
    types = {kind: value for kind, value in costs(report).items() if "(limit 100)" not in kind}
    total = sum(n for n, _ in types.values())
    mean = {f: sum(n * c[f] for n, c in types.values()) / total for f in FIELDS}
    count = {kind: n for kind, (n, _) in types.items()}
    creates = sum(n for kind, n in count.items() if kind.startswith("create_task"))
    won, released = count.get("claim_task 200", 0), count.get("release_task 200", 0)
    # Writes that put a task in or take it out of `pending` (and `assigned`) in each index.
    pending = (creates + won + released) / total
    calls = sum(n * CALLS.get(kind, 1) for kind, n in count.items()) / total
    index_wcu = max(mean["created WCU"], mean["queue WCU"])
    lines = [
        f"per request of the mix ({total} requests): CPU {mean['cpu']:.2f} ms, table {mean['table WCU']:.3f} WCU "
        f"{mean['table RCU']:.3f} RCU, status-created-index {mean['created WCU']:.3f} WCU {mean['created RCU']:.3f} "
        f"RCU, status-queue-index {mean['queue WCU']:.3f} WCU {mean['queue RCU']:.3f} RCU; claims won "
        f"{100 * won / total:.1f} %, creates {100 * creates / total:.1f} %, writes on `pending` {pending:.3f}, "
        f"DynamoDB calls {calls:.2f}",
    ]
    for name, memory, rate in PRESETS:
        cpu = mean["cpu"] * FULL_VCPU_MB / memory
        duration = cpu + calls * DYNAMODB_MS + AUDIT_PUT_MS
        lines.append(
            f"{name}: {memory} MB: CPU {cpu:.1f} ms + waits {calls * DYNAMODB_MS + AUDIT_PUT_MS:.1f} ms = "
            f"{duration:.0f} ms; {rate:.0f} requests/s need {rate * duration / 1000:.0f} concurrent executions; "
            f"{memory / 1024 * duration / 1000:.4f} GB-s per request"
        )
    limits = {
        "original": {
            "stage": 100.0,
            "table WCU (100)": 100 / mean["table WCU"],
            "index WCU (100)": 100 / index_wcu,
            "table RCU (100)": 100 / mean["table RCU"],
            "created RCU (100)": 100 / mean["created RCU"],
            "queue RCU (100)": 100 / mean["queue RCU"],
        },
        "scale": {
            "stage": 3000.0,
            "table WRU at once (4,000)": 4000 / mean["table WCU"],
            "index WRU at once (4,000)": 4000 / index_wcu,
            "one index key value (1,000 WCU)": 1000 / pending,
            "table RRU at once (12,000)": 12000 / mean["table RCU"],
            "audit PUTs (3,500)": 3500.0,
        },
    }
    for name, bounds in limits.items():
        rate = min(bounds.values())
        lines.append(
            f"{name} admits {rate:,.0f} requests/s ({rate * won / total:,.0f} claims/s): "
            + ", ".join(f"{limit} {value:,.0f}" for limit, value in bounds.items())
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPORT, help="a bench.mixed_load report")
    args = parser.parse_args(argv)
    try:
        lines = model(args.report.read_text())
    except (OSError, ValueError) as error:
        print(f"capacity_model: {args.report}: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
