"""``python -m keyops`` against moto: revoke by fingerprint, list, and what it refuses."""

from __future__ import annotations

import json
import uuid

import pytest

from keyops.cli import main
from rotation import keys as k
from tests.function.support import API_KEY, OTHER_KEY, SECRET, Api, Aws


def _current(aws: Aws) -> k.KeySet:
    return k.parse(aws.secretsmanager.get_secret_value(SecretId=SECRET, VersionStage="AWSCURRENT")["SecretString"])


def test_revoke_by_fingerprint_removes_that_key_only(api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert api.call("list_tasks", key=OTHER_KEY).status == 200
    [(_, record)] = aws.audit_records()
    fingerprint = record["caller"]["api_key_fingerprint"]  # what an operator reads from the audit
    assert main(["revoke", "--secret-id", SECRET, "--fingerprint", fingerprint]) == 0
    assert f"revoked key {fingerprint}" in capsys.readouterr().out
    assert _current(aws).keys == (API_KEY,)
    assert OTHER_KEY not in aws.secretsmanager.get_secret_value(SecretId=SECRET)["SecretString"]


def test_list_shows_fingerprints_never_keys(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--secret-id", SECRET]) == 0
    out = capsys.readouterr().out
    assert k.fingerprint(API_KEY) in out and k.fingerprint(OTHER_KEY) in out
    assert API_KEY not in out and OTHER_KEY not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["revoke", "--fingerprint", "ABC"], "12 lowercase hex digits"),
        (["revoke", "--fingerprint", "0123456789ab"], "no key of the secret has the fingerprint 0123456789ab"),
        (["rotate"], "has no rotation configured"),
    ],
)
def test_refusals_change_nothing(aws: Aws, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    before = aws.secretsmanager.describe_secret(SecretId=SECRET)["VersionIdsToStages"]
    assert main([*argv, "--secret-id", SECRET]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert aws.secretsmanager.describe_secret(SecretId=SECRET)["VersionIdsToStages"] == before


def test_the_last_key_is_not_revoked(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.set_keys(API_KEY)
    assert main(["revoke", "--secret-id", SECRET, "--fingerprint", k.fingerprint(API_KEY)]) == 2
    assert "the last key the API accepts" in capsys.readouterr().err
    assert _current(aws).keys == (API_KEY,)


def test_no_revoke_while_a_rotation_is_pending(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.secretsmanager.put_secret_value(
        SecretId=SECRET,
        ClientRequestToken=str(uuid.uuid4()),
        SecretString=json.dumps({"api_keys": [API_KEY, OTHER_KEY, "fresh-key-0000"]}),
        VersionStages=["AWSPENDING"],
    )
    assert main(["revoke", "--secret-id", SECRET, "--fingerprint", k.fingerprint(OTHER_KEY)]) == 2
    assert "AWSPENDING: a rotation is running or failed" in capsys.readouterr().err
    assert _current(aws).keys == (API_KEY, OTHER_KEY)


def test_endpoint_is_for_the_local_stack_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--env", "prod", "--endpoint", "http://127.0.0.1:4566", "--secret-id", SECRET]) == 2
    assert "--endpoint is for the local stack only" in capsys.readouterr().err
