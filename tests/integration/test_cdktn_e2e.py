"""CDK Terrain against the stack CDKTF deployed: no changes, by plan and by both CLIs.

The session's deployment (conftest.py's ``deployment``) is the ``local`` stack synthesized by
CDKTF (``make local``'s code path) and applied to the emulator. Here CDK Terrain synthesizes the
same stack with the same settings into a folder of its own, whose backend is the same state on
the emulator's S3: ``terraform plan -detailed-exitcode`` there exits 0 (no changes). Then
each CLI with its own library (``npx cdktf`` with cdktf, ``npx cdktn`` with cdktn) runs ``diff``
and ``deploy`` against that deployment, where the Node on PATH runs it (workspace/node.py; where
it does not, that check's one line is what ``make`` stops with): no changes, a diff writes no
state, and the deploy replaces and adds nothing (Terraform may still write refreshed values).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from testkit import cdktn
from tests.integration.local_deployment import Deployment
from workspace import node
from workspace.paths import PROJECT
from workspace.terraform import emulator_env, run_terraform

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def _settings(deployment: Deployment) -> dict[str, str]:
    """What ``make local`` synthesized the deployed stack with (local/deploy.py)."""
    settings = {k: v for k, v in deployment.env.items() if k.startswith("TAP_")}
    endpoint = deployment.session.endpoint
    return {**settings, "TAP_ENVIRONMENTS": "local", "TAP_EMULATOR_ENDPOINT": endpoint, "TAP_BACKEND": "s3"}


def _serial(stack_dir: Path) -> int:
    pulled = run_terraform(["state", "pull"], stack_dir, env=emulator_env(), timeout=300)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    serial: int = json.loads(pulled.stdout)["serial"]
    return serial


def test_the_cdktn_synth_plans_no_changes_against_the_cdktf_deployment(deployment: Deployment, tmp_path: Path) -> None:
    cdktn.require()
    result = cdktn.synthesize("cdktn", tmp_path, _settings(deployment))
    assert result.returncode == 0, result.stderr[-3000:]
    stack_dir = tmp_path / "stacks" / "local"
    assert cdktn.library_version(tmp_path, "local") == "0.24.0"
    init = run_terraform(["init", "-input=false", "-no-color"], stack_dir, env=emulator_env(), timeout=600)
    assert init.returncode == 0, init.stdout[-3000:] + init.stderr
    plan = run_terraform(
        ["plan", "-detailed-exitcode", "-lock=false", "-input=false", "-no-color"],
        stack_dir, env=emulator_env(), timeout=900,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr
    assert "No changes. Your infrastructure matches the configuration." in plan.stdout
    assert _serial(stack_dir) == _serial(deployment.paths.stack_dir)


def _cli(cli: str, command: list[str], deployment: Deployment, outdir: Path, library: str) -> str:
    """``npx CLI COMMAND local`` on the app with the deployment's settings, into ``outdir``; its output."""
    env = emulator_env(cdktn.synth_env(library, outdir, _settings(deployment)))
    env.update(PIPENV_VENV_IN_PROJECT="1", PIPENV_VERBOSITY="-1", CHECKPOINT_DISABLE="1")
    result = subprocess.run(
        ["npx", cli, *command, "local", "--output", str(outdir), "--skip-provider-lock", "--no-color"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def _resources(stack_dir: Path) -> dict[str, str]:
    """Each resource address of the deployed state with its id: what a replacement would change."""
    pulled = run_terraform(["state", "pull"], stack_dir, env=emulator_env(), timeout=300)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    return {
        f"{r['type']}.{r['name']}{'' if i.get('index_key') is None else [i['index_key']]}": i["attributes"].get("id")
        for r in json.loads(pulled.stdout)["resources"] if r["mode"] == "managed" for i in r["instances"]
    }  # fmt: skip


@pytest.mark.cli
@pytest.mark.parametrize(("cli", "library"), [("cdktf", "cdktf"), ("cdktn", "cdktn")])
def test_diff_and_deploy_find_nothing_to_change(deployment: Deployment, tmp_path: Path, cli: str, library: str) -> None:
    """``npx CLI diff``, then ``npx CLI deploy`` of that synth: no changes, no resource touched."""
    if library == "cdktn":
        cdktn.require()
    if problem := node.problem(cli, node.node_on_path()):
        pytest.skip(f"the Node on PATH does not run {cli}-cli (make stops with: {problem})")
    stack_dir = deployment.paths.stack_dir
    serial, resources = _serial(stack_dir), _resources(stack_dir)
    assert "No changes. Your infrastructure matches the configuration." in _cli(
        cli, ["diff"], deployment, tmp_path, library
    )
    assert cdktn.library_version(tmp_path, "local") == {"cdktf": "0.21.0", "cdktn": "0.24.0"}[library]
    assert _serial(stack_dir) == serial, "a diff writes no state"
    deployed = _cli(cli, ["deploy", "--skip-synth", "--auto-approve"], deployment, tmp_path, library)
    assert "No changes. Your infrastructure matches the configuration." in deployed
    assert _resources(stack_dir) == resources
