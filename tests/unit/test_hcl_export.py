"""``make hcl`` (``python -m hclexport``) on real renders, checked by ``terraform validate``
with the real AWS provider: every environment's HCL has 0 errors and 0 warnings, each
post-processing rule mends a defect Terraform reports in the renderer's own output (left
out, exactly that defect comes back), a rewrite keeps what else is in the folder, and bad
input is one line, exit status 2, nothing written.

(That the HCL plans no changes against a stack deployed from the JSON is
tests/integration/test_hcl_e2e.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hclexport.render import HCL_FILE, finish, render
from hclexport.rules import RULES, Rule
from stacks.config import ENVIRONMENTS
from tests.conftest import TEST_ALARM_EMAIL, TEST_REPLICA_REGION, TEST_STATE_BUCKET
from workspace.paths import PROJECT
from workspace.terraform import run_terraform

pytestmark = pytest.mark.terraform

#: prod and dev as they deploy (S3 state, an alarm destination); local keeps its state on the emulator.
DEPLOYABLE = {"TAP_BACKEND": "s3", "TAP_STATE_BUCKET": TEST_STATE_BUCKET, "TAP_ALARM_EMAILS": TEST_ALARM_EMAIL}
#: prod with everything optional that renders differently: a second provider, for_each, conditions.
VARIANT = DEPLOYABLE | {
    "TAP_AUDIT_REPLICA_REGION": TEST_REPLICA_REGION,
    "TAP_ALARM_EMAILS": "ops@example.com,oncall@example.org",
    "TAP_TABLE_INDEX_CHANGES": "true",
}


def settings(outdir: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "CDKTF_", "SYNTH_HCL"))}
    return base | {"CDKTF_OUTDIR": str(outdir)} | extra


def hcl(environ: dict[str, str], *envs: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hclexport", *(f"--env={env}" for env in envs)]
    return subprocess.run(command, cwd=PROJECT, env=environ, text=True, capture_output=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder initialized once (``terraform init -backend=false``) to validate each HCL in."""
    folder = tmp_path_factory.mktemp("validate")
    (folder / HCL_FILE).write_text(
        'terraform {\n  required_providers {\n    aws = {\n      version = "5.100.0"\n    }\n  }\n}\n'
    )
    init = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], folder, timeout=300)
    assert init.returncode == 0, init.stdout
    return folder


def validate(validator: Path, text: str) -> dict[str, Any]:
    """``terraform validate -json`` of ``text`` as the validator's main.tf."""
    (validator / HCL_FILE).write_text(text)
    report: dict[str, Any] = json.loads(
        run_terraform(["validate", "-json", "-no-color"], validator, timeout=300).stdout
    )
    return report


def diagnostics(report: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter((d["severity"], d["summary"]) for d in report["diagnostics"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Every environment written by one ``python -m hclexport`` run: (the hcl folder, the run)."""
    outdir = tmp_path_factory.mktemp("hcl-out")
    result = hcl(settings(outdir, **DEPLOYABLE), *ENVIRONMENTS)
    assert result.returncode == 0, result.stdout + result.stderr
    return outdir / "hcl", result


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_validates_with_no_error_and_no_warning(
    exported: tuple[Path, subprocess.CompletedProcess[str]], validator: Path, env: str
) -> None:
    folder = exported[0] / env
    assert sorted(p.name for p in folder.iterdir()) == ["assets", HCL_FILE]
    report = validate(validator, (folder / HCL_FILE).read_text())
    assert (report["error_count"], report["warning_count"]) == (0, 0), report["diagnostics"]
    assert f"hcl: {folder}/{HCL_FILE}: the {env} stack" in exported[1].stdout


def test_the_function_zips_are_where_the_hcl_says(exported: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder = exported[0] / "prod"
    text = (folder / HCL_FILE).read_text()
    zips = sorted(str(p.relative_to(folder)) for p in (folder / "assets").rglob("*.zip"))
    assert len(zips) == 2
    for path in zips:
        assert f'filename         = "{path}"' in text


@pytest.fixture(scope="module")
def raw_variant(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The renderer's own cdk.tf of the variant, before any rule."""
    work = tmp_path_factory.mktemp("raw")
    (folder,) = render(["prod"], settings(work, **VARIANT), work).values()
    return (folder / "cdk.tf").read_text()


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_each_rule_mends_a_defect_terraform_reports(raw_variant: str, validator: Path, rule: Rule) -> None:
    """Every rule but that one: Terraform reports the defects the rule names, and nothing else."""
    reported = diagnostics(validate(validator, finish(raw_variant, tuple(r for r in RULES if r is not rule))))
    assert set(reported) == rule.defects, reported


def test_a_rewrite_replaces_the_hcl_and_assets_and_keeps_the_rest(
    exported: tuple[Path, subprocess.CompletedProcess[str]], raw_variant: str, validator: Path, tmp_path: Path
) -> None:
    """The variant written over a copy of the prod folder: its HCL is the mended render and
    validates clean; the state, lock file and a file of the user's stay; old assets go."""
    folder = tmp_path / "hcl" / "prod"
    shutil.copytree(exported[0] / "prod", folder)
    kept = {"terraform.tfstate": '{"version": 4}', ".terraform.lock.hcl": "# lock", "backend_override.tf": "# mine"}
    for name, text in kept.items():
        (folder / name).write_text(text)
    stale = folder / "assets" / "stale.zip"
    stale.write_bytes(b"old")
    result = hcl(settings(tmp_path, **VARIANT))
    assert result.returncode == 0, result.stderr
    assert {name: (folder / name).read_text() for name in kept} == kept
    assert not stale.exists() and len(list((folder / "assets").rglob("*.zip"))) == 2
    text = (folder / HCL_FILE).read_text()
    assert text == finish(raw_variant)
    report = validate(validator, text)
    assert (report["error_count"], report["warning_count"]) == (0, 0), report["diagnostics"]
    assert not list(tmp_path.glob("hcl/.render-*")), "the render folder is removed"


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["--env=staging"], {}, "hcl: unknown stack 'staging'; known stacks: prod, dev, local"),
        (["--env="], {}, "hcl: unknown stack ''; known stacks: prod, dev, local"),
        (["--env=prod"], {"TAP_BACKEND": "ftp"}, "hcl: config error: TAP_BACKEND"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    tmp_path: Path, args: list[str], extra: dict[str, str], message: str
) -> None:
    command = [sys.executable, "-m", "hclexport", *args]
    environ = settings(tmp_path, **extra)
    result = subprocess.run(command, cwd=PROJECT, env=environ, text=True, capture_output=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []
