"""Key rotation as synthesized (stacks/rotation.py), its settings (stacks/key_settings.py), the
rotation package, and the rule callers use to pick a key (rotation.keys and tap agree)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from function.contract import KEY_CACHE_TTL_SECONDS
from rotation import keys as k
from stacks.config import ConfigError, load_config
from stacks.package import build_rotation_package
from tap import target

ROOT = Path(__file__).resolve().parents[2]


def _policy(stack: dict[str, Any], name: str) -> str:
    """A policy's jsonencode expression, whitespace-normalised."""
    return " ".join(stack["resource"]["aws_iam_policy"][name]["policy"].split())


def test_the_secret_rotates_every_30_days_with_its_own_function(prod_stack: dict[str, Any]) -> None:
    resources = prod_stack["resource"]
    schedule = resources["aws_secretsmanager_secret_rotation"]["api_keys"]
    assert schedule["secret_id"] == "${aws_secretsmanager_secret.api_keys.arn}"
    assert schedule["rotation_lambda_arn"] == "${aws_lambda_function.rotation.arn}"
    assert schedule["rotation_rules"] == {"automatically_after_days": 30}
    assert schedule["rotate_immediately"] is False
    function = resources["aws_lambda_function"]["rotation"]
    assert function["handler"] == "rotation.handler.lambda_handler"
    assert function["kms_key_arn"] == "${aws_kms_key.main.arn}"
    assert function["environment"]["variables"] == {"KEY_RETIRE_AFTER_SECONDS": str(72 * 3600)}
    assert function["vpc_config"]["security_group_ids"] == ["${aws_security_group.api_gw_sg.id}"]
    assert function["tracing_config"] == {"mode": "Active"}
    log_group = resources["aws_cloudwatch_log_group"]["rotation"]
    assert log_group["name"] == "/aws/lambda/tap_stack_key_rotation"
    assert (log_group["retention_in_days"], log_group["kms_key_id"]) == (365, "${aws_kms_key.main.arn}")
    permission = resources["aws_lambda_permission"]["rotation_secretsmanager"]
    assert permission["principal"] == "secretsmanager.amazonaws.com"
    assert permission["source_arn"] == "${aws_secretsmanager_secret.api_keys.arn}"


def test_the_rotation_role_may_touch_this_secret_and_key_only(prod_stack: dict[str, Any]) -> None:
    document = _policy(prod_stack, "rotation")
    assert document == (
        '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = '
        '["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", '
        '"secretsmanager:UpdateSecretVersionStage"], "Resource" = aws_secretsmanager_secret.api_keys.arn}, '
        '{"Effect" = "Allow", "Action" = ["kms:Decrypt", "kms:GenerateDataKey"], "Resource" = aws_kms_key.main.arn}, '
        '{"Effect" = "Allow", "Action" = ["logs:CreateLogStream", "logs:PutLogEvents"], '
        '"Resource" = "${aws_cloudwatch_log_group.rotation.arn}:*"}]})}'
    )


def test_settings_reach_the_stack_and_bad_windows_are_refused() -> None:
    config = load_config(
        "dev", {"TAP_BACKEND": "local", "TAP_KEY_ROTATION_DAYS": "7", "TAP_KEY_RETIRE_AFTER_HOURS": "1.5"}
    )
    assert (config.key_rotation.days, config.key_rotation.retire_after_seconds) == (7, 5400)
    for env, message in [
        ({"TAP_KEY_RETIRE_AFTER_HOURS": "0.05"}, "longer than the handler's key cache time (5 minutes"),
        ({"TAP_KEY_RETIRE_AFTER_HOURS": "nan"}, "longer than the handler's key cache time"),
        ({"TAP_KEY_RETIRE_AFTER_HOURS": "three"}, "is not a number of hours"),
        ({"TAP_KEY_ROTATION_DAYS": "0"}, "TAP_KEY_ROTATION_DAYS=0 must be 1-1000"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
            load_config("dev", {"TAP_BACKEND": "local", **env})


def test_a_window_inside_the_key_cache_stops_the_synth_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "TAP_BACKEND": "local", "TAP_KEY_RETIRE_AFTER_HOURS": "0.05", "CDKTF_OUTDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tap-stack: config error: prod: TAP_KEY_RETIRE_AFTER_HOURS=0.05 must be longer than the handler's key "
        "cache time (5 minutes = 0.083 h): callers would lose the old key before every container knows the new one"
    ]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_rotation_zip_is_deterministic_and_holds_only_its_code(tmp_path: Path) -> None:
    first = build_rotation_package(ROOT / "rotation", tmp_path / "a.zip")
    second = build_rotation_package(ROOT / "rotation", tmp_path / "b.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    names = zipfile.ZipFile(first.path).namelist()
    assert names == sorted(names)
    assert set(names) == {
        "function/__init__.py",
        "function/contract.py",
        "rotation/__init__.py",
        "rotation/handler.py",
        "rotation/keys.py",
    }


def test_the_rotation_zip_imports_alone(tmp_path: Path) -> None:
    package = build_rotation_package(ROOT / "rotation", tmp_path / "rotation.zip")
    zipfile.ZipFile(package.path).extractall(tmp_path / "unzipped")
    code = "import rotation.handler as h; print(h.lambda_handler.__name__)"
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'unzipped')!r}); {code}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "lambda_handler", result.stderr


def _secret(now: datetime, ages: dict[str, float], retires: dict[str, float]) -> dict[str, Any]:
    return {
        "api_keys": list(ages),
        "issued_at": {k.fingerprint(key): (now - timedelta(seconds=s)).isoformat() for key, s in ages.items()},
        "retire_at": {k.fingerprint(key): (now + timedelta(seconds=s)).isoformat() for key, s in retires.items()},
    }


@pytest.mark.parametrize(
    ("ages", "retires", "expected"),
    [
        ({"old": 9e6, "new": 10}, {"old": 3600}, "old"),  # new key not yet known everywhere
        ({"old": 9e6, "new": KEY_CACHE_TTL_SECONDS}, {"old": 3600}, "new"),
        ({"old": 9e6, "new": 10}, {"old": -1}, "new"),  # the old one retired: the only key left
        ({"a": 10, "b": 10}, {}, "a"),  # first rotation of an original secret: the key known longest
    ],
)
def test_tap_picks_the_key_the_rotation_rules_pick(
    ages: dict[str, float], retires: dict[str, float], expected: str
) -> None:
    now = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    secret = _secret(now, ages, retires)
    assert target.key_to_use(secret, now) == expected
    assert k.key_to_use(k.parse(json.dumps(secret)), now) == expected
    assert target.KEY_CACHE_SECONDS == KEY_CACHE_TTL_SECONDS
    assert target.key_to_use({"api_keys": ["legacy-1", "legacy-2"]}, now) == "legacy-2"
