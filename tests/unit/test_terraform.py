"""The synthesized stack as Terraform itself sees it, with the real AWS provider 5.100.0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from workspace.terraform import run_terraform

pytestmark = pytest.mark.terraform

#: An emulator-free provider setup for `plan`: any AWS call fails at once on a closed port,
#: so what the plan reports is Terraform's own checking of the inputs.
OFFLINE_PROVIDER = {
    "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
    "provider": {
        "aws": {
            "region": "us-west-2",
            "access_key": "test",
            "secret_key": "test",
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": "true",
            "max_retries": 1,
            "endpoints": [{"sts": "http://127.0.0.1:9", "ec2": "http://127.0.0.1:9"}],
        }
    },
}


@pytest.fixture(scope="session")
def initialized_stack(prod_stack_dir: Path) -> Path:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH: it is required for these tests (see README)")
    result = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], prod_stack_dir, timeout=300)
    assert result.returncode == 0, result.stdout
    return prod_stack_dir


def validate(stack_dir: Path) -> dict[str, Any]:
    return json.loads(run_terraform(["validate", "-json", "-no-color"], stack_dir, timeout=300).stdout)


def test_validate_has_no_errors_and_no_warnings(initialized_stack: Path) -> None:
    report = validate(initialized_stack)
    assert report["valid"] is True, report
    assert report["error_count"] == 0, report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]


@pytest.mark.parametrize("env", ["dev", "local"])
def test_other_environments_validate_too(synthesized_dir: Path, env: str) -> None:
    stack_dir = synthesized_dir / env
    init = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, timeout=300)
    assert init.returncode == 0, init.stdout
    report = validate(stack_dir)
    assert (report["valid"], report["error_count"], report["warning_count"]) == (True, 0, 0), report["diagnostics"]


@pytest.fixture(scope="session")
def plannable_stack(initialized_stack: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy with a local backend and a provider that cannot reach AWS."""
    copy = tmp_path_factory.mktemp("plannable") / "prod"
    shutil.copytree(initialized_stack, copy, symlinks=True)
    (copy / "zz_offline_override.tf.json").write_text(json.dumps(OFFLINE_PROVIDER))
    result = run_terraform(["init", "-reconfigure", "-input=false", "-no-color"], copy, timeout=300)
    assert result.returncode == 0, result.stdout
    return copy


#: Each plan sets several bad variables at once (Terraform reports every one), which
#: keeps the number of slow provider start-ups down.
BAD_VARIABLE_PLANS = {
    "malformed": [
        ('lambda_allowed_ips=["203.0.113.1","not-an-ip"]', "must be an IPv4/IPv6 address or CIDR block"),
        ("dynamodb_table_name=", "dynamodb_table_name must be 3-255 characters"),
        ("lambda_log_bucket_name=Logs_Bucket", "lambda_log_bucket_name must be a valid S3 bucket name"),
        ("aws_region=westeurope", "aws_region must be an AWS region name"),
        ("api_key_secret_name=has space", "api_key_secret_name must be 1-512 characters"),
    ],
    "empty_or_ip_like": [
        ("lambda_allowed_ips=[]", "must not be empty while the API's IP allowlist is enforced"),
        ("lambda_log_bucket_name=192.168.1.1", "lambda_log_bucket_name must be a valid S3 bucket name"),
    ],
}


def plan(stack: Path, variables: list[str]) -> tuple[int, str]:
    args = ["plan", "-input=false", "-no-color", "-refresh=false", *(f"-var={v}" for v in variables)]
    result = run_terraform(args, stack, timeout=300)
    return result.returncode, " ".join(result.stdout.split())


@pytest.mark.parametrize("case", sorted(BAD_VARIABLE_PLANS))
def test_plan_rejects_bad_variables_with_a_clear_message(plannable_stack: Path, case: str) -> None:
    cases = BAD_VARIABLE_PLANS[case]
    returncode, output = plan(plannable_stack, [var for var, _ in cases])
    assert returncode != 0
    for var, message in cases:
        assert message in output, f"{var}: {output[-3000:]}"
    assert output.count("Invalid value for variable") == len(cases)


def test_plan_accepts_good_variables(plannable_stack: Path) -> None:
    """The control: valid values raise no variable error (the plan then stops at the closed AWS port)."""
    _, output = plan(
        plannable_stack,
        [
            'lambda_allowed_ips=["198.51.100.0/24","2001:db8::1"]',
            "dynamodb_table_name=tasks.v2",
            "aws_region=eu-west-1",
        ],
    )
    assert "Invalid value for variable" not in output
    assert "connection refused" in output
