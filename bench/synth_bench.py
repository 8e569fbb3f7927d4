"""Measure `make synth`: eager provider import against on demand, and CDKTF against CDK Terrain, side by side.

Every row is a fresh process, and the rows of one round run back to back, so load on the
machine hits every way alike. "Cold" means nothing to reuse: `cdktf.out/`, `build/` and the
project's bytecode are removed first, so `make synth` (``main.py --if-changed``) does a full
synth. The floor is the issue's reference: ``python -c "import cdktf_cdktf_provider_aws.vpc"``
(the default library's bindings, named by stacks/cdk.py) with the package's own (eager)
``__init__``. The cdktn rows run ``make synth TAP_CDK=cdktn`` (``.venv-cdktn/`` and the bindings
``make cdktn-bindings`` generated, which must be there already). Peak RSS is the largest process
of the tree (the jsii Node kernel), from ``getrusage(RUSAGE_CHILDREN)`` in a fresh measuring
process. Results go to docs/benchmarks-synth.md, with the UTC time and the load average at start
and end; the sentences there are computed from the medians.

    .venv/bin/python -m bench.synth_bench [--runs 3]

The rows run ``make -s synth``, whose install prerequisite (``.venv/.installed``) runs
``pipenv sync`` first when Pipfile.lock is newer than that stamp.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from stacks import cdk

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MAKE_SYNTH = ["make", "-s", "synth"]

MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "wall": wall, "peak_mib": peak_kib / 1024}))
"""

#: row name → (command, extra environment, drop caches first)
ROWS: dict[str, tuple[list[str], dict[str, str], bool]] = {
    "floor (eager import of the vpc bindings)": (
        [PYTHON, "-c", f"import {cdk.selected({}).bindings}.vpc"],
        {"TAP_EAGER_PROVIDER_IMPORT": "1"},
        False,
    ),
    "make synth, all environments, cold, eager (before)": (MAKE_SYNTH, {"TAP_EAGER_PROVIDER_IMPORT": "1"}, True),
    "make synth, all environments, cold, on demand (after)": (MAKE_SYNTH, {}, True),
    # Right after the synth above, with the same settings: nothing to do.
    "make synth, no input changed (after)": (MAKE_SYNTH, {}, False),
    "make synth, prod alone, cold, eager (before)": (
        MAKE_SYNTH,
        {"TAP_EAGER_PROVIDER_IMPORT": "1", "TAP_ENVIRONMENTS": "prod"},
        True,
    ),
    "make synth, prod alone, cold, on demand (after)": (MAKE_SYNTH, {"TAP_ENVIRONMENTS": "prod"}, True),
    "make synth TAP_CDK=cdktn, all environments, cold": (MAKE_SYNTH, {"TAP_CDK": "cdktn"}, True),
    "make synth TAP_CDK=cdktn, prod alone, cold": (MAKE_SYNTH, {"TAP_CDK": "cdktn", "TAP_ENVIRONMENTS": "prod"}, True),
}


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [PYTHON, "-c", MEASURE, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit status {result['code']}")
    return result


def drop_caches() -> None:
    for path in (ROOT / "build", ROOT / "cdktf.out"):
        shutil.rmtree(path, ignore_errors=True)
    for folder in ("stacks", "function"):
        for cache in (ROOT / folder).glob("**/__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)


def report(
    rows: dict[str, list[dict[str, float]]], runs: int, started: str, loads: tuple[float, float, float], node: str
) -> str:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[name])

    names = list(ROWS)
    floor, all_eager, all_fast, noop, prod_eager, prod_fast, all_cdktn, prod_cdktn = names
    lines = [
        "# Synthesis benchmark",
        "",
        f"Measured by `bench/synth_bench.py` from {started} to {time.strftime('%H:%M', time.gmtime())} UTC "
        f"(load average {loads[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end): "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, Node {node}, {runs} rounds (medians); "
        "each round runs every row once, back to back, each a fresh process. *Eager* sets "
        "`TAP_EAGER_PROVIDER_IMPORT=1` (the provider package's own `__init__`, as before on-demand "
        "loading); *on demand* is the default. Rows without `TAP_CDK` use CDKTF 0.21 (the default); "
        "`TAP_CDK=cdktn` uses CDK Terrain 0.24 with its generated bindings, also on demand.",
        "",
        "| command | wall (s) | min–max (s) | peak RSS of the largest process (MiB) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in names:
        walls = [r["wall"] for r in rows[name]]
        lines.append(
            f"| {name} | {median(name, 'wall'):.2f} | {min(walls):.2f}–{max(walls):.2f} "
            f"| {median(name, 'peak_mib'):.0f} |"
        )
    floor_wall = median(floor, "wall")
    lines += [
        "",
        f"`make synth` of all environments, cold, takes **{median(all_fast, 'wall') / floor_wall:.2f} ×** the "
        f"eager import floor on demand, against {median(all_eager, 'wall') / floor_wall:.2f} × with the eager "
        f"import ({median(all_eager, 'wall') / median(all_fast, 'wall'):.1f} times faster); prod alone "
        f"{median(prod_fast, 'wall'):.2f} s against {median(prod_eager, 'wall'):.2f} s. A `make synth` with no "
        f"changed input takes {median(noop, 'wall'):.2f} s. Peak RSS on demand is "
        f"{median(all_fast, 'peak_mib'):.0f} MiB against {median(all_eager, 'peak_mib'):.0f} MiB eager.",
        "",
        f"CDK Terrain against CDKTF, both on demand: all environments {median(all_cdktn, 'wall'):.2f} s against "
        f"{median(all_fast, 'wall'):.2f} s ({1 - median(all_cdktn, 'wall') / median(all_fast, 'wall'):.0%} less), "
        f"prod alone {median(prod_cdktn, 'wall'):.2f} s against {median(prod_fast, 'wall'):.2f} s "
        f"({1 - median(prod_cdktn, 'wall') / median(prod_fast, 'wall'):.0%} less); peak RSS "
        f"{median(all_cdktn, 'peak_mib'):.0f} MiB against {median(all_fast, 'peak_mib'):.0f} MiB.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith("TAP_")}
    base.update(TAP_BACKEND="local", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")

    started, loads = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.getloadavg()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in ROWS}
    for round_number in range(args.runs):
        for name, (command, extra, cold) in ROWS.items():
            print(f"round {round_number + 1}/{args.runs}: {name} …", flush=True)
            if cold:
                drop_caches()
            rows[name].append(measure(command, {**base, **extra}))
    text = report(rows, args.runs, started, loads, node)
    (ROOT / "docs" / "benchmarks-synth.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
