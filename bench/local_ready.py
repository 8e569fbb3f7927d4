"""Time `make local` from nothing to a deployed platform, eager provider import against on demand.

Each run deploys a private copy (``TAP_LOCAL_DIR`` in a temporary folder, free ports) with
``python -m local.up --no-serve`` — emulator start, synth, ``terraform init``/``apply``, key —
then removes it with ``python -m local.down``. Nothing is reused between runs, so every run
synthesizes. *Eager* sets ``TAP_EAGER_PROVIDER_IMPORT=1``. Prints a Markdown table.

    .venv/bin/python -m bench.local_ready [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workspace.processes import free_port

ROOT = Path(__file__).resolve().parent.parent


def ready_seconds(eager: bool) -> float:
    """Wall time of one ``local.up --no-serve`` in a private folder; the copy is removed after."""
    with tempfile.TemporaryDirectory(prefix="tap-ready-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_")}
        env.update(TAP_LOCAL_DIR=folder, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
        if eager:
            env["TAP_EAGER_PROVIDER_IMPORT"] = "1"
        command = [sys.executable, "-m", "local.up", "--no-serve", "--port", str(free_port())]
        started = time.perf_counter()
        up = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        down = subprocess.run(
            [sys.executable, "-m", "local.down"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if up.returncode != 0 or down.returncode != 0:
            raise SystemExit(f"local.up/down failed:\n{up.stderr[-1500:]}\n{down.stderr[-1500:]}")
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="rounds, each one eager and one on-demand run")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"eager (before)": [], "on demand (after)": []}
    for round_number in range(args.runs):
        for label, values in times.items():
            print(f"round {round_number + 1}/{args.runs}: {label} …", flush=True)
            values.append(ready_seconds(eager=label.startswith("eager")))
    print("\n| `make local` from nothing to deployed | median (s) | runs (s) |\n| --- | ---: | --- |")
    for label, values in times.items():
        print(f"| {label} | {statistics.median(values):.1f} | {', '.join(f'{v:.1f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
