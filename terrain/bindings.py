"""``make cdktn-bindings``: generate CDK Terrain's AWS provider bindings, mend them, cache them by version.

No prebuilt cdktn bindings exist for hashicorp/aws 5.x (they all target 6.x), so ``cdktn get``
generates them from the provider in the mirror (``.terraformrc.mirror``; ~3-4 minutes, ~200 MB):

    [1/4] Node       the Node on PATH runs cdktn-cli (workspace/node.py), else one line and exit 2
    [2/4] generate   ``npx cdktn get`` in ``<cache>/aws-<version>.partial/``, elapsed time every 15 s
    [3/4] mend       the one broken import (terrain/mend.py), or exit 1 saying what changed
    [4/4] check      ``provider`` and ``vpc`` import with this Python's cdktn; then READY is
                     written and the folder renamed to ``<cache>/aws-<version>/`` in one step

The cache (``.gen/cdktn/`` or ``TAP_CDKTN_CACHE``, git-ignored) is keyed by provider version; a
folder with its READY file is reused as it is (``--force`` generates anew). Run it with the
Python of ``.venv-cdktn/`` (``make cdktn-bindings`` does), which has cdktn.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from stacks import cdk
from terrain import mend
from workspace import node
from workspace.paths import PROJECT, shown
from workspace.processes import tail

PROGRESS_SECONDS = 15.0
GET_TIMEOUT_SECONDS = 1800.0
#: ``cdktn get``'s project file: the one provider, Python, generated code in ``imports/``.
GET_CONFIG = {
    "language": "python",
    "app": "true",
    "sendCrashReports": "false",
    "terraformProviders": [f"hashicorp/aws@={cdk.AWS_PROVIDER_VERSION}"],
    "codeMakerOutput": "imports",
}
#: Python code that imports what every stack needs from the generated package (its folder is argv[1]).
SMOKE = (
    "import sys; from pathlib import Path; from stacks import lazy_provider;"
    "aws = lazy_provider.load('imports.aws', Path(sys.argv[1])); aws.provider.AwsProvider; aws.vpc.Vpc; print('ok')"
)


class GenerationFailed(Exception):
    """A step failed: the message says which and what to look at."""


def _step(number: int, text: str) -> None:
    print(f"[{number}/4] {text}", flush=True)


def _generate(work: Path) -> float:
    """``cdktn get`` in ``work``, its output in ``work/get.log``; the seconds it took."""
    (work / "cdktf.json").write_text(json.dumps(GET_CONFIG, indent=2) + "\n", encoding="utf-8")
    log = work / "get.log"
    # The provider comes from the mirror when make exported TF_CLI_CONFIG_FILE (.terraformrc.mirror).
    # cdktn get asks pipenv for the installed cdktn version: let it find this venv, not make one.
    env = {**os.environ, "VIRTUAL_ENV": sys.prefix, "PIPENV_MAX_DEPTH": "1", "PIPENV_VERBOSITY": "-1"}
    env.setdefault("CHECKPOINT_DISABLE", "1")
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [str(PROJECT / "node_modules" / ".bin" / "cdktn"), "get"],
            cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if elapsed > GET_TIMEOUT_SECONDS:
                process.kill()
                raise GenerationFailed(f"cdktn get took longer than {GET_TIMEOUT_SECONDS:.0f} s; see {shown(log)}")
            try:
                process.wait(timeout=PROGRESS_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"      cdktn get: {time.monotonic() - started:.0f} s …", flush=True)
    if process.returncode != 0:
        raise GenerationFailed(
            f"cdktn get exited with {process.returncode}; last lines of {shown(log)}:\n{tail(log, 15)}"
        )
    return time.monotonic() - started


def _check(package: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SMOKE, str(package)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or result.stdout.strip() != "ok":
        raise GenerationFailed(
            f"the generated bindings do not import: {(result.stderr.strip().splitlines() or ['?'])[-1]}"
        )


def generate(library: cdk.Library, force: bool = False) -> str:
    """Generate, mend, check and cache the bindings of ``library`` (cdktn); the summary line."""
    assert library.generated is not None and library.ready is not None and library.bindings_folder is not None
    if library.ready.is_file() and not force:
        return f"cdktn bindings: cached in {shown(library.generated)} ({library.ready.read_text(encoding='utf-8')})"
    _step(1, "Node")
    problem = node.problem("cdktn", node.node_on_path())
    if problem:
        raise node.NodeProblem(problem)
    work = library.generated.with_name(library.generated.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _step(2, f"generate: cdktn get, hashicorp/aws {cdk.AWS_PROVIDER_VERSION} from the provider mirror (~3-4 min)")
    seconds = _generate(work)
    package = work / library.bindings_folder.relative_to(library.generated)
    _step(3, "mend: " + mend.mend(package))
    _step(4, "check: provider and vpc import")
    _check(package)
    for leftover in ("Pipfile", "cdktf.json"):
        (work / leftover).unlink(missing_ok=True)
    stamp = {
        "provider": cdk.AWS_PROVIDER_VERSION,
        "cdktn_cli": node.cli_version("cdktn"),
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cdktn_get_seconds": str(round(seconds)),
    }
    (work / cdk.READY).write_text(json.dumps(stamp, sort_keys=True), encoding="utf-8")
    shutil.rmtree(library.generated, ignore_errors=True)
    work.rename(library.generated)
    return f"cdktn bindings: generated into {shown(library.generated)} in {seconds:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate cdktn's AWS provider bindings (make cdktn-bindings).")
    parser.add_argument("--force", action="store_true", help="generate anew even when cached")
    args = parser.parse_args(argv)
    library = cdk.selected({**os.environ, cdk.SWITCH: "cdktn"})
    try:
        print(generate(library, args.force))
    except node.NodeProblem as exc:
        print(f"tap-stack: {exc}", file=sys.stderr)
        return 2
    except (GenerationFailed, mend.MendFailed) as exc:
        print(f"tap-stack: cdktn bindings: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
