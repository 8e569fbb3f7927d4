"""The `run:` scripts of deploy.yml and drift.yml, run as written, with the real Terraform.

No AWS account is reachable here, so the stack is a stand-in: the AWS provider (installed
as in the real stack, so there is a lock file) and one ``terraform_data`` resource, with a
local state file outside the stack folder playing the S3 state. The plan job's steps plan,
seal and summarize in one workspace; the artifact is copied to a second workspace as
download-artifact would; the apply job's steps verify and apply there. Then the drift
step's exit status is checked with nothing and with something to change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit import workflow_checks as wc
from workspace.terraform import terraform_env

pytestmark = pytest.mark.terraform

COMMIT = "0123456789abcdef0123456789abcdef01234567"
STACK = Path("cdktf.out/stacks/prod")


def stand_in(state: Path, value: str) -> dict[str, Any]:
    return {
        "terraform": {
            "required_providers": {"aws": {"source": "aws", "version": "5.100.0"}},
            "backend": {"local": {"path": str(state)}},
        },
        "provider": {
            "aws": {
                "region": "us-west-2",
                "access_key": "test",
                "secret_key": "test",
                "skip_credentials_validation": True,
                "skip_requesting_account_id": True,
                "skip_metadata_api_check": "true",
            }
        },
        "resource": {"terraform_data": {"release": {"input": value}}},
    }


def workspace(root: Path, name: str) -> Path:
    """A checkout: the repository's scripts/ and an empty cdktf.out/."""
    ws = root / name
    ws.mkdir()
    (ws / "scripts").symlink_to(wc.WORKFLOWS.parents[1] / "scripts")
    return ws


class Runner:
    """Runs a workflow step's script as GitHub's `bash -e` would, with the runner's files."""

    def __init__(self, root: Path) -> None:
        self.temp = root / "runner-temp"
        self.temp.mkdir()
        self.summary = root / "summary.md"
        self.summary.touch()

    def run(
        self, workflow: str, job: str, predicate: Callable[[wc.Step], bool], ws: Path, **env: str
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        step = next(s for s in wc.steps(wc.jobs(wc.load(workflow))[job]) if predicate(s))
        output = self.temp / "github-output"
        output.write_text("")
        full_env = terraform_env(os.environ) | {
            "GITHUB_SHA": COMMIT,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.temp),
            **env,
        }
        result = subprocess.run(
            ["bash", "-e", "-c", str(step["run"])],
            cwd=ws / str(step.get("working-directory", ".")),
            env=full_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        return result, outputs


def runs(text: str) -> Callable[[wc.Step], bool]:
    return lambda s: text in str(s.get("run", ""))


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH: it is required for these tests (see README)")
    return Runner(tmp_path)


def test_the_reviewed_plan_is_applied_once_and_a_tampered_one_never(tmp_path: Path, runner: Runner) -> None:
    state = tmp_path / "state" / "terraform.tfstate"
    state.parent.mkdir()
    planned = workspace(tmp_path, "plan-job")
    (planned / STACK).mkdir(parents=True)
    (planned / STACK / "cdk.tf.json").write_text(json.dumps(stand_in(state, "v1")))

    plan, outputs = runner.run("deploy.yml", "plan", lambda s: s.get("id") == "plan", planned)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert outputs == {"changes": "true"}
    seal, outputs = runner.run("deploy.yml", "plan", lambda s: s.get("id") == "seal", planned)
    assert seal.returncode == 0, seal.stderr
    plan_sha256 = outputs["plan_sha256"]
    shown, _ = runner.run(
        "deploy.yml", "plan", runs("terraform show"), planned, CHANGES="true", PLAN_SHA256=plan_sha256
    )
    assert shown.returncode == 0, shown.stderr
    summary = runner.summary.read_text()
    assert f"Plan file SHA-256: `{plan_sha256}`" in summary
    assert "terraform_data.release will be created" in summary

    artifact = runner.temp / "plan-artifact"
    assert (artifact / STACK.relative_to("cdktf.out") / ".terraform.lock.hcl").is_file()
    assert not (artifact / STACK.relative_to("cdktf.out") / ".terraform").exists()

    # A copy whose configuration changed after the review is refused before any apply.
    tampered = workspace(tmp_path, "tampered")
    shutil.copytree(artifact, tampered / "cdktf.out")
    (tampered / STACK / "cdk.tf.json").write_text(json.dumps(stand_in(state, "v1-but-not-reviewed")))
    refused, _ = runner.run("deploy.yml", "apply", runs("plan-artifact.sh verify"), tampered, PLAN_SHA256=plan_sha256)
    assert refused.returncode == 1
    assert "cdk.tf.json: FAILED" in refused.stdout + refused.stderr

    # The apply job: download (a copy), verify, apply tfplan.
    applied = workspace(tmp_path, "apply-job")
    shutil.copytree(artifact, applied / "cdktf.out")
    verified, _ = runner.run("deploy.yml", "apply", runs("plan-artifact.sh verify"), applied, PLAN_SHA256=plan_sha256)
    assert verified.returncode == 0, verified.stderr
    apply, _ = runner.run("deploy.yml", "apply", runs("terraform apply"), applied)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    resources = json.loads(state.read_text())["resources"]
    assert [(r["type"], r["name"]) for r in resources] == [("terraform_data", "release")]

    # Re-running the apply job applies nothing: Terraform refuses the saved plan as stale.
    again, _ = runner.run("deploy.yml", "apply", runs("terraform apply"), applied)
    assert again.returncode != 0
    assert "Saved plan is stale" in again.stdout + again.stderr

    # The drift check: nothing to change, then a change (as if made outside Terraform).
    checked = workspace(tmp_path, "drift-job")
    (checked / STACK).mkdir(parents=True)
    (checked / STACK / "cdk.tf.json").write_text(json.dumps(stand_in(state, "v1")))
    runner.summary.write_text("")
    clean, _ = runner.run("drift.yml", "drift", runs("-detailed-exitcode"), checked)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No changes." in runner.summary.read_text()
    (checked / STACK / "cdk.tf.json").write_text(json.dumps(stand_in(state, "v2")))
    drifted, _ = runner.run("drift.yml", "drift", runs("-detailed-exitcode"), checked)
    assert drifted.returncode == 1
    assert "::error title=Drift in prod::" in drifted.stdout
    assert "terraform_data.release will be updated in-place" in runner.summary.read_text()
