"""Cold import of the Lambda deployment package as Lambda loads it, for bench.handler_bench.

The zip is built by ``stacks/package.py`` (or given: ``--compare`` names another build),
extracted into a temporary folder, and each measurement is one fresh interpreter started
with ``-B`` (no bytecode written; the zip has none and Lambda's ``/var/task`` is read-only),
no ``PYTHON*`` environment variables and the extracted folder as its working directory,
which ``python -c`` puts first on ``sys.path`` as Lambda puts ``/var/task`` first. It times
``import botocore.config, botocore.exceptions, botocore.session`` (the SDK the Lambda
runtime provides, from this interpreter's site-packages; its ``jmespath`` comes from the
zip when the zip has one, as on Lambda) and then ``import lambda_function`` on top of it.
"""

from __future__ import annotations

import importlib.metadata
import os
import statistics
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import time\n"
    "t = time.perf_counter()\n"
    "import botocore.config, botocore.exceptions, botocore.session\n"
    "u = time.perf_counter()\n"
    "import lambda_function\n"
    "print((u - t) * 1000, (time.perf_counter() - u) * 1000)\n"
)


@dataclass(frozen=True)
class ColdImport:
    """One fresh interpreter: the SDK the Lambda runtime provides (botocore), then the zip's code."""

    sdk_ms: float
    own_ms: float

    @property
    def total_ms(self) -> float:
        return self.sdk_ms + self.own_ms


@dataclass(frozen=True)
class ZipContents:
    """A package's size, split by its entries into the handler's files and vendored libraries."""

    path: Path
    size: int
    handler_entries: int
    handler_compressed: int
    handler_bytes: int
    library_entries: int
    library_compressed: int
    library_bytes: int

    def describe(self) -> str:
        text = (
            f"{self.size:,} bytes: handler {self.handler_entries} files, "
            f"{self.handler_compressed:,} bytes compressed ({self.handler_bytes:,} uncompressed)"
        )
        if self.library_entries:
            text += (
                f"; libraries {self.library_entries} files, {self.library_compressed:,} bytes compressed "
                f"({self.library_bytes:,} uncompressed)"
            )
        overhead = self.size - self.handler_compressed - self.library_compressed
        return text + f"; the zip's headers and directory {overhead:,} bytes"


def library_top_levels() -> frozenset[str]:
    """Top-level names (packages, modules, ``*.dist-info``) of the libraries the package vendors."""
    from stacks.package import RUNTIME_LIBRARIES  # noqa: PLC0415  (stacks/ loads the provider machinery)

    names: set[str] = set()
    for distribution in RUNTIME_LIBRARIES:
        for file in importlib.metadata.distribution(distribution).files or ():
            names.add(Path(str(file)).parts[0])
    return frozenset(names - {".."})


def zip_contents(path: Path) -> ZipContents:
    """Sizes from the zip's entries: vendored libraries by their top-level name, the rest the handler's."""
    libraries = library_top_levels()
    counts = {True: [0, 0, 0], False: [0, 0, 0]}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            tally = counts[info.filename.split("/", 1)[0] in libraries]
            tally[0] += 1
            tally[1] += info.compress_size
            tally[2] += info.file_size
    (h_n, h_c, h_u), (l_n, l_c, l_u) = counts[False], counts[True]
    return ZipContents(path, path.stat().st_size, h_n, h_c, h_u, l_n, l_c, l_u)


def build_current(out_dir: Path) -> Path:
    """The package of this tree's ``function/``, built exactly as the stack builds it."""
    from stacks.package import build_lambda_package  # noqa: PLC0415  (stacks/ loads the provider machinery)

    return build_lambda_package(ROOT / "function", out_dir / "function.zip").path


def extract(zip_path: Path, into: Path) -> Path:
    """The zip's files in ``into`` (a fresh folder), as Lambda unpacks them into /var/task."""
    into.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(into)
    if not (into / "lambda_function.py").is_file():
        raise SystemExit(f"{zip_path} has no lambda_function.py at its root")
    return into


def measure_once(task_dir: Path) -> ColdImport:
    """One fresh interpreter in ``task_dir``: botocore's import, then ``import lambda_function``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    out = subprocess.run(
        [sys.executable, "-B", "-c", PROBE], cwd=task_dir, env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"cold import in {task_dir} failed:\n{out.stderr}")
    sdk_ms, own_ms = (float(part) for part in out.stdout.split())
    return ColdImport(sdk_ms, own_ms)


def measure(task_dir: Path, runs: int) -> list[ColdImport]:
    return [measure_once(task_dir) for _ in range(runs)]


def alternate(first: Path, second: Path, runs: int) -> tuple[list[ColdImport], list[ColdImport]]:
    """``runs`` fresh interpreters each, alternating first, second, first, second, …"""
    a: list[ColdImport] = []
    b: list[ColdImport] = []
    for _ in range(runs):
        a.append(measure_once(first))
        b.append(measure_once(second))
    return a, b


@dataclass(frozen=True)
class Summary:
    """Medians (total, botocore, own) and the range of the totals of a set of runs."""

    total: float
    sdk: float
    own: float
    low: float
    high: float

    @classmethod
    def of(cls, runs: list[ColdImport]) -> Summary:
        totals = [r.total_ms for r in runs]
        return cls(
            statistics.median(totals),
            statistics.median(r.sdk_ms for r in runs),
            statistics.median(r.own_ms for r in runs),
            min(totals),
            max(totals),
        )


def runs_line(runs: list[ColdImport]) -> str:
    return ", ".join(f"{r.sdk_ms:.1f} + {r.own_ms:.1f}" for r in runs)


def compare_markdown(
    current: ZipContents, other: ZipContents, current_runs: list[ColdImport], other_runs: list[ColdImport]
) -> str:
    """The comparison section: both medians, min/max, the difference of medians, both zips' sizes."""
    now, then = Summary.of(current_runs), Summary.of(other_runs)
    lines = [
        f"## Cold import: this build against {other.path}",
        "",
        f"{len(other_runs)} fresh interpreters each, alternating (the other zip, then this build, then the other, …), "
        "each from its own extracted zip; times in ms.",
        "",
        "| package | median total | min | max | median botocore | median `import lambda_function` |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in (("this build", now), (f"`{other.path}`", then)):
        lines.append(f"| {name} | {s.total:.1f} | {s.low:.1f} | {s.high:.1f} | {s.sdk:.1f} | {s.own:.1f} |")
    lines += [
        "",
        f"Difference of medians (this build minus the other): total {now.total - then.total:+.1f} ms, "
        f"botocore {now.sdk - then.sdk:+.1f} ms, `import lambda_function` {now.own - then.own:+.1f} ms.",
        "",
        f"Zips: this build {current.describe()}; `{other.path}` {other.describe()}.",
        "",
        f"Runs of this build (ms, botocore + lambda_function): {runs_line(current_runs)}.",
        "",
        f"Runs of `{other.path}`: {runs_line(other_runs)}.",
        "",
    ]
    return "\n".join(lines)
