"""``make hcl``'s HCL against the stack deployed from the synthesized JSON, on the emulator.

Uses the session's ``deployment``: the local stack applied to moto from ``cdk.tf.json`` by
``make local``'s code path. ``python -m hclexport --env local`` writes the same stack as HCL,
with the same settings, into a folder of its own; ``terraform init`` there reads the
deployment's state from the emulator's S3 (the same backend key), and the plan from the HCL
must change nothing: 0 to add, 0 to change, 0 to destroy, every output as it is.

A state can hide a difference (an attribute the HCL left out that the provider then keeps
as it finds it), so a second test plans the HCL and the JSON each against an empty state and
compares what Terraform would create, value for value and unknown for unknown.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.local_deployment import Deployment
from workspace.paths import PROJECT
from workspace.terraform import emulator_env, run_terraform

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

#: Points a copied folder at an empty local state (override files work for JSON and HCL alike).
EMPTY_STATE = {"terraform": {"backend": {"local": {"path": "empty.tfstate"}}}}


@pytest.fixture(scope="module")
def hcl_folder(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployed local stack written by ``python -m hclexport``, with the deployment's settings."""
    outdir = tmp_path_factory.mktemp("hcl-e2e")
    environ = dict(
        deployment.env, TAP_EMULATOR_ENDPOINT=deployment.session.endpoint, TAP_BACKEND="s3", CDKTF_OUTDIR=str(outdir)
    )
    command = [sys.executable, "-m", "hclexport", "--env", "local"]
    result = subprocess.run(command, cwd=PROJECT, env=environ, text=True, capture_output=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return outdir / "hcl" / "local"


def _terraform(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_terraform([*args, "-input=false", "-no-color"], folder, env=emulator_env(), timeout=600)


def _planned(folder: Path) -> tuple[int, str, dict[str, Any]]:
    """``terraform init`` and ``terraform plan -detailed-exitcode``: (exit code, output, the plan as JSON)."""
    init = _terraform(folder, "init", "-reconfigure")
    assert init.returncode == 0, init.stdout[-3000:]
    plan = _terraform(folder, "plan", "-detailed-exitcode", "-lock=false", "-out=tfplan")
    shown = run_terraform(["show", "-json", "tfplan"], folder, env=emulator_env(), timeout=300)
    assert shown.returncode == 0, shown.stdout[-3000:]
    return plan.returncode, plan.stdout, json.loads(shown.stdout)


def _actions(plan: dict[str, Any]) -> dict[str, int]:
    counts = {"add": 0, "change": 0, "destroy": 0}
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        counts["add"] += "create" in actions
        counts["change"] += actions == ["update"]
        counts["destroy"] += "delete" in actions
    return counts


def test_the_hcl_plans_no_change_against_the_stack_deployed_from_json(hcl_folder: Path) -> None:
    code, output, plan = _planned(hcl_folder)
    assert code == 0, output[-4000:]
    assert "No changes. Your infrastructure matches the configuration." in output
    assert _actions(plan) == {"add": 0, "change": 0, "destroy": 0}
    assert len(plan["resource_changes"]) > 80, "the plan covers the whole deployed stack"
    assert {tuple(c["change"]["actions"]) for c in plan["resource_changes"]} == {("no-op",)}
    assert {tuple(o["actions"]) for o in plan["output_changes"].values()} == {("no-op",)}
    print(f"hcl plan: {len(plan['resource_changes'])} resources, {_actions(plan)}")


def _from_empty_state(folder: Path) -> dict[str, Any]:
    """``folder``'s configuration planned against an empty state (its providers already installed)."""
    (folder / "zz_empty_state_override.tf.json").write_text(json.dumps(EMPTY_STATE))
    code, output, plan = _planned(folder)
    assert code == 2, output[-4000:]
    return plan


def _to_create(plan: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["address"]: (c["change"]["after"], c["change"]["after_unknown"]) for c in plan["resource_changes"]}


def test_the_hcl_and_the_json_are_the_same_configuration(
    deployment: Deployment, hcl_folder: Path, tmp_path: Path
) -> None:
    json_folder = tmp_path / "json"
    shutil.copytree(deployment.paths.stack_dir, json_folder, ignore=shutil.ignore_patterns(".terraform"))
    (json_folder / ".terraform").mkdir()
    (json_folder / ".terraform" / "providers").symlink_to(deployment.paths.stack_dir / ".terraform" / "providers")
    from_json = _from_empty_state(json_folder)
    from_hcl = _from_empty_state(hcl_folder)
    json_values, hcl_values = _to_create(from_json), _to_create(from_hcl)
    assert sorted(hcl_values) == sorted(json_values)
    differing = sorted(address for address in json_values if json_values[address] != hcl_values[address])
    first = differing[:1] and {"json": json_values[differing[0]], "hcl": hcl_values[differing[0]]}
    assert differing == [], f"planned differently from the HCL: {differing}; the first, (after, after_unknown): {first}"
    assert from_hcl["output_changes"] == from_json["output_changes"]
    print(f"hcl equivalence: {len(hcl_values)} resources planned alike from an empty state")
