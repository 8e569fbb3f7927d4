"""``python -m rollout`` refusing bad input before it touches AWS, and the AppSpec it sends.

The calls against a deployed stack (a rollout from N to N+1, a second one refused while the
first is open, a version that does not exist) are in tests/integration/test_rollout_e2e.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollout import deploy
from rollout.cli import main
from rollout.targets import RolloutError, Target, resolve

TARGET = Target(function="tap_stack_lambda", alias="live", app="tap_stack_lambda", group="tap_stack_live")


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    return err


def test_a_stack_that_was_never_deployed_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = _refused(capsys, "--env", "prod", "--stack-dir", str(tmp_path))
    assert (
        err == f"rollout: no initialised stack in {tmp_path}: deploy it first, or name the targets with "
        "--function, --app and --group\n"
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--version", "0"], "--version 0: versions are numbered from 1"),
        (["--env", "prod", "--endpoint", "http://127.0.0.1:4566"], "--endpoint is for the local stack only"),
        (["--env", "local", "--endpoint", "http://10.0.0.5:4566"], "TAP_EMULATOR_ENDPOINT='http://10.0.0.5:4566'"),
    ],
)
def test_bad_flags_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], says: str) -> None:
    assert says in _refused(capsys, *argv)


def test_an_unknown_setting_value_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--env", "staging"])
    assert exited.value.code == 2
    assert "invalid choice: 'staging'" in capsys.readouterr().err


def test_flags_win_over_outputs_and_a_missing_output_is_named() -> None:
    outputs = {
        "lambda_function_name": "fn",
        "lambda_alias_name": "live",
        "codedeploy_app_name": "app",
        "codedeploy_deployment_group_name": "group",
    }
    assert resolve(outputs, {"group": "other"}) == Target("fn", "live", "app", "other")
    with pytest.raises(RolloutError, match=r"the stack has no output codedeploy_app_name .* or pass --app"):
        resolve({**outputs, "codedeploy_app_name": None}, {})


def test_the_appspec_is_codedeploys_lambda_shape() -> None:
    appspec = json.loads(deploy.Plan(TARGET, current="3", version="4").appspec())
    assert appspec == {
        "version": 0.0,
        "Resources": [
            {
                "tap_stack_lambda": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": "tap_stack_lambda",
                        "Alias": "live",
                        "CurrentVersion": "3",
                        "TargetVersion": "4",
                    },
                }
            }
        ],
    }
