"""``npx cdktf synth`` and ``npx cdktn synth`` write what ``python main.py`` writes, or make stops first.

Each CLI runs the app of cdktf.json (``pipenv run python main.py``) with the library ``TAP_CDK``
chooses; its ``cdk.tf.json`` must be byte for byte main.py's own with the same settings. Where
the Node on PATH cannot run the CLI (cdktf-cli on Node 24, cdktn-cli before 22.19),
``make cli-synth CLI=…`` must stop with workspace/node.py's one line, exit status 2, and write
nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from testkit import cdktn
from workspace import node
from workspace.paths import PROJECT

pytestmark = [pytest.mark.slow, pytest.mark.cli]

SETTINGS = {"TAP_ENVIRONMENTS": "dev", "TAP_BACKEND": "local"}


def _env(library: str, outdir: Path) -> dict[str, str]:
    env = cdktn.synth_env(library, outdir, SETTINGS)
    env.update(PIPENV_VENV_IN_PROJECT="1", PIPENV_VERBOSITY="-1", CHECKPOINT_DISABLE="1")
    return env


@pytest.mark.parametrize(("cli", "library"), [("cdktf", "cdktf"), ("cdktn", "cdktf"), ("cdktn", "cdktn")])
def test_the_cli_synthesizes_what_main_py_does(tmp_path: Path, cli: str, library: str) -> None:
    if library == "cdktn":
        cdktn.require()
    if node.problem(cli, node.node_on_path()):
        pytest.skip(f"the Node on PATH does not run {cli}-cli: test_make_stops_before_a_cli_this_node_cannot_run")
    via_cli = tmp_path / "cli"
    result = subprocess.run(
        ["npx", cli, "synth", "--output", str(via_cli)],
        cwd=PROJECT, env=_env(library, via_cli), capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Generated Terraform code for the stacks: dev" in result.stdout
    direct = cdktn.synthesize(library, tmp_path / "main", SETTINGS)
    assert direct.returncode == 0, direct.stderr[-3000:]
    assert cdktn.stack_text(via_cli, "dev") == cdktn.stack_text(tmp_path / "main", "dev")


@pytest.mark.parametrize("cli", node.CLIS)
def test_make_stops_before_a_cli_this_node_cannot_run(tmp_path: Path, cli: str) -> None:
    problem = node.problem(cli, node.node_on_path())
    if problem is None:
        pytest.skip(f"the Node on PATH runs {cli}-cli: test_the_cli_synthesizes_what_main_py_does runs it")
    outdir = PROJECT / "cdktf.out"
    before = sorted(outdir.rglob("*")) if outdir.exists() else []
    result = subprocess.run(
        ["make", "-s", "cli-synth", f"CLI={cli}"],
        cwd=PROJECT, env=_env("cdktf", tmp_path), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"tap-stack: {problem}; {node.OTHER_CLI[cli]}"
    assert len(lines) == 2 and re.fullmatch(r"make: \*\*\* \[Makefile:\d+: cli-node\] Error 2", lines[1])
    assert (sorted(outdir.rglob("*")) if outdir.exists() else []) == before
