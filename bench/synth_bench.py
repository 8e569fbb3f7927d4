#!/usr/bin/env python3
"""Measure `make synth` against its floor: importing the AWS provider bindings.

Each run is a fresh process (that is what `make synth` pays). Wall time comes from
the clock around the process, peak RSS from the kernel's accounting of the process
tree (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` after each run, in a fresh
measuring process so earlier children do not mask it): the largest single process,
which is the jsii Node kernel in both commands. "Cold" is the first run after the
package caches are dropped from this checkout (`build/`, `cdktf.out/`,
`__pycache__`); "warm" runs follow it. Results go to docs/benchmarks-synth.md.
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

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FLOOR = [PYTHON, "-c", "import cdktf_cdktf_provider_aws.vpc"]
SYNTH = [PYTHON, "main.py"]

MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "wall": wall, "peak_mib": peak_kib / 1024}))
"""


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [PYTHON, "-c", MEASURE, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit status {result['code']}")
    return result


def drop_caches() -> None:
    for path in (ROOT / "build", ROOT / "cdktf.out"):
        shutil.rmtree(path, ignore_errors=True)
    for cache in ROOT.glob("stacks/**/__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs of each command (default 5)")
    args = parser.parse_args()
    env = dict(os.environ, TAP_BACKEND=os.environ.get("TAP_BACKEND", "local"))
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

    print("cold synth …", flush=True)
    drop_caches()
    cold = measure(SYNTH, env)
    rows: dict[str, list[dict[str, float]]] = {"floor": [], "synth": []}
    for run in range(args.runs):
        print(f"warm run {run + 1}/{args.runs} …", flush=True)
        rows["floor"].append(measure(FLOOR, env))
        rows["synth"].append(measure(SYNTH, env))

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[name])

    floor_wall, synth_wall = median("floor", "wall"), median("synth", "wall")
    floor_rss, synth_rss = median("floor", "peak_mib"), median("synth", "peak_mib")
    lines = [
        "# Synthesis benchmark",
        "",
        f"Measured by `bench/synth_bench.py` on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.runs} warm runs (medians), every run a fresh process "
        "synthesizing all three environments (prod, dev, local).",
        "",
        "| command | wall (s) | peak RSS of the largest process (MiB) |",
        "| --- | ---: | ---: |",
        f'| floor: `python -c "import cdktf_cdktf_provider_aws.vpc"` | {floor_wall:.2f} | {floor_rss:.0f} |',
        f"| `python main.py`, cold (no build/, cdktf.out/, bytecode) | {cold['wall']:.2f} | {cold['peak_mib']:.0f} |",
        f"| `python main.py`, warm | {synth_wall:.2f} | {synth_rss:.0f} |",
        "",
        f"Warm synth over the floor: **{(synth_wall / floor_wall - 1) * 100:+.1f} %** wall time, "
        f"**{(synth_rss / floor_rss - 1) * 100:+.1f} %** peak RSS (budget: +15 %).",
        "",
        "Warm-run spread (min–max wall): floor "
        f"{min(r['wall'] for r in rows['floor']):.2f}–{max(r['wall'] for r in rows['floor']):.2f} s, synth "
        f"{min(r['wall'] for r in rows['synth']):.2f}–{max(r['wall'] for r in rows['synth']):.2f} s.",
    ]
    report = "\n".join(lines) + "\n"
    (ROOT / "docs" / "benchmarks-synth.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
