"""API keys: constant-time check, per-container cache, quick pickup of new keys."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from function.auth import ApiKeyStore
from function.errors import ApiError
from tests.function.support import API_KEY, OTHER_KEY, SECRET, Api, Aws, handler, record_calls


class FakeClock:
    """Monotonic seconds we advance by hand instead of sleeping minutes."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _secret_reads(client: Any) -> list[str]:
    reads: list[str] = []
    client.meta.events.register("before-call.secrets-manager.GetSecretValue", lambda **_: reads.append("read"))
    return reads


@pytest.fixture
def store(aws: Aws) -> tuple[ApiKeyStore, FakeClock, list[str]]:
    client = boto3.client("secretsmanager")
    clock = FakeClock()
    return ApiKeyStore(client, SECRET, clock=clock), clock, _secret_reads(client)


def _status(store: ApiKeyStore, key: str | None) -> int:
    try:
        store.check(key)
    except ApiError as exc:
        return exc.status
    return 200


def test_warm_container_reads_the_secret_once(api: Api) -> None:
    calls = record_calls(handler.runtime())
    for _ in range(5):
        assert api.call("list_tasks").status == 200
        assert api.call("list_tasks", key=OTHER_KEY).status == 200
    assert calls.count("secretsmanager.GetSecretValue") == 1


def test_wrong_keys_right_after_a_read_do_not_re_read(api: Api) -> None:
    calls = record_calls(handler.runtime())
    assert api.call("list_tasks").status == 200
    for i in range(20):
        assert api.call("list_tasks", key=f"guess-{i}").status == 403
    assert calls.count("secretsmanager.GetSecretValue") == 1


def test_a_new_key_works_after_at_most_30_seconds(store, aws: Aws) -> None:
    keys, clock, reads = store
    assert _status(keys, API_KEY) == 200 and len(reads) == 1
    aws.set_keys(API_KEY, "new-key-123456")
    clock.now += 10
    assert _status(keys, "new-key-123456") == 403 and len(reads) == 1  # last read was 10 s ago
    clock.now += 20
    assert _status(keys, "new-key-123456") == 200 and len(reads) == 2  # 30 s: one early refresh
    assert _status(keys, "new-key-123456") == 200 and len(reads) == 2


def test_unknown_key_flood_costs_one_read_per_30_seconds(store) -> None:
    keys, clock, reads = store
    keys.check(API_KEY)
    for second in range(0, 120):
        clock.now += 1
        assert _status(keys, f"attacker-{second}") == 403
    # 1 initial read + one refresh at most every 30 s over 120 s.
    assert len(reads) == 1 + 4


def test_keys_are_re_read_every_5_minutes_and_removed_keys_stop_working(store, aws: Aws) -> None:
    keys, clock, reads = store
    keys.check(OTHER_KEY)
    aws.set_keys(API_KEY)  # OTHER_KEY revoked
    clock.now += 299
    assert _status(keys, OTHER_KEY) == 200 and len(reads) == 1  # still cached
    clock.now += 1
    assert _status(keys, OTHER_KEY) == 403 and len(reads) == 2
    assert _status(keys, API_KEY) == 200 and len(reads) == 2


def test_reset_caches_applies_a_rotation_immediately(api: Api, aws: Aws) -> None:
    assert api.call("list_tasks").status == 200
    aws.set_keys("rotated-key-abcdef")
    assert api.call("list_tasks").status == 200  # cached: old key still valid
    handler.reset_caches()
    assert api.call("list_tasks").status == 403
    assert api.call("list_tasks", key="rotated-key-abcdef").status == 200


@pytest.mark.parametrize("key", [API_KEY[:-1], API_KEY + " ", API_KEY.upper(), " " + API_KEY, "k"])
def test_near_misses_are_rejected(api: Api, key: str) -> None:
    assert api.call("list_tasks", key=key).status == 403


def test_non_ascii_keys_compare_as_utf8(api: Api, aws: Aws) -> None:
    aws.set_keys("clé-ünïcode-✓-0001")
    assert api.call("list_tasks", key="clé-ünïcode-✓-0001").status == 200
    assert api.call("list_tasks", key="cle-unicode-?-0001").status == 403


@pytest.mark.parametrize(
    "secret", ["not json", json.dumps({"keys": ["x"]}), json.dumps({"api_keys": "x"}), json.dumps({"api_keys": [""]})]
)
def test_malformed_secret_is_a_500_and_is_picked_up_once_fixed(
    api: Api, aws: Aws, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.secretsmanager.put_secret_value(SecretId=SECRET, SecretString=secret)
    response = api.call("list_tasks")
    assert (response.status, response.error["code"]) == (500, "internal_error")
    assert "api key secret is malformed" in capsys.readouterr().out


def test_malformed_secret_recovers_within_30_seconds(store, aws: Aws) -> None:
    keys, clock, reads = store
    aws.secretsmanager.put_secret_value(SecretId=SECRET, SecretString="{}")
    with pytest.raises(RuntimeError):
        keys.check(API_KEY)
    aws.set_keys(API_KEY)
    clock.now += 30
    assert _status(keys, API_KEY) == 200 and len(reads) == 2


def test_empty_key_list_rejects_everyone(api: Api, aws: Aws) -> None:
    aws.set_keys()
    assert api.call("list_tasks").status == 403
