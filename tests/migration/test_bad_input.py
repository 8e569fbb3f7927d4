"""Bad input gets one clear line, exit status 2, and nothing is written anywhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.migration.conftest import CANNOT_JUDGE, Run, clean_environ, run_migration
from workspace.terraform import run_terraform

pytestmark = pytest.mark.timeout(300)


def refused(run: Run, *phrases: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr naming the problem and what to do."""
    assert run.code == CANNOT_JUDGE, run.output
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ") and "; what to do: " in lines[0], lines[0]
    assert "Traceback" not in run.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def check_args(state: str | Path, out: Path, *extra: str) -> list[str | Path]:
    return ["check", "--from-state", state, "--plan-out", out / "plan.json", *extra]


def test_unknown_environment(tmp_path: Path) -> None:
    refused(run_migration(*check_args("x.tfstate", tmp_path), "--env", "qa"), "environment 'qa' is unknown")
    assert list(tmp_path.iterdir()) == []


def test_unknown_environment_as_json(tmp_path: Path) -> None:
    run = run_migration(*check_args("x.tfstate", tmp_path), "--env", "qa", "--json")
    assert run.code == CANNOT_JUDGE
    assert json.loads(run.stdout) == {
        "ok": False, "error": "environment 'qa' is unknown", "todo": "choose one of prod, dev, local",
    }  # fmt: skip
    assert run.stderr.startswith("error: environment 'qa' is unknown")


def test_no_backend_state_yet(tmp_path: Path) -> None:
    """Without --from-state the check reads the backend's state: the local backend's file here."""
    run = run_migration("check", "--env", "prod", env=clean_environ(CDKTF_OUTDIR=str(tmp_path / "out")))
    refused(run, f"there is no state at {tmp_path / 'out' / 'stacks' / 'prod' / 'terraform.prod.tfstate'}")
    assert not (tmp_path / "out").exists()


def test_missing_state_file(tmp_path: Path) -> None:
    refused(run_migration(*check_args(tmp_path / "nope.tfstate", tmp_path)), "there is no state at")
    assert list(tmp_path.iterdir()) == []


def test_s3_url_without_credentials(tmp_path: Path) -> None:
    run = run_migration(*check_args("s3://some-bucket/tap/terraform.tfstate", tmp_path))
    refused(run, "no AWS credentials", "s3://some-bucket/tap/terraform.tfstate")
    assert list(tmp_path.iterdir()) == []


def test_emulator_must_be_on_loopback(tmp_path: Path) -> None:
    run = run_migration(*check_args("x.tfstate", tmp_path), "--emulator", "http://10.1.2.3:4566")
    refused(run, "not a loopback URL")


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda tmp: tmp / "missing-folder", "does not exist"),
        (lambda tmp: Path(shutil.copy(__file__, tmp / "main.tf")), "is not a folder"),
        (lambda tmp: tmp, "holds no Terraform files"),
    ],
    ids=["missing", "a-file", "no-tf-files"],
)
def test_prove_refuses_an_unreadable_original(make: object, phrase: str, tmp_path: Path) -> None:
    original = make(tmp_path)  # type: ignore[operator]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = run_migration("prove", "--original", original, env=clean_environ(TMPDIR=str(scratch)))
    refused(run, "--original", phrase)
    assert list(scratch.iterdir()) == [], "nothing may be written before the original is readable"


@pytest.mark.migration
def test_a_half_written_state_is_refused(state_copy: Path, tmp_path: Path) -> None:
    whole = state_copy.read_bytes()
    state_copy.write_bytes(whole[: len(whole) // 2])
    run = run_migration(*check_args(state_copy, tmp_path / "out"))
    refused(run, "not a whole Terraform state", "half-written")
    assert state_copy.read_bytes() == whole[: len(whole) // 2]
    assert not (tmp_path / "out").exists()


@pytest.mark.migration
def test_a_state_from_a_newer_terraform_is_refused(state_copy: Path, tmp_path: Path) -> None:
    state = json.loads(state_copy.read_text())
    state["terraform_version"] = "9.1.0"
    state_copy.write_text(json.dumps(state))
    refused(run_migration(*check_args(state_copy, tmp_path / "out")), "written by Terraform 9.1.0", "install Terraform")
    assert not (tmp_path / "out").exists()


@pytest.mark.terraform
def test_the_state_of_another_stack_is_refused(tmp_path: Path) -> None:
    """A real state of an unrelated configuration: none of the 25 original addresses."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.tf").write_text('resource "terraform_data" "queue" {\n  input = "orders"\n}\n')
    for args in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]):
        result = run_terraform(args, other, timeout=300)
        assert result.returncode == 0, result.stdout
    state = other / "terraform.tfstate"
    before = state.read_bytes()
    run = run_migration(*check_args(state, tmp_path / "out"))
    refused(run, "this state does not look like the original deployment: 0/25 addresses found")
    assert state.read_bytes() == before
    assert not (tmp_path / "out").exists()
