"""The key rotation function on moto: each step, a whole rotation, a rotation while requests
keep arriving through the real handler, and a failed step that leaves the secret usable.

moto's RotateSecret cannot run our function (its Lambda needs Docker), so the steps are
called in order with the event Secrets Manager sends, as Secrets Manager would. Time moves
on a clock shared by the handler's key store and the rotation function, never by sleeping.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from function.auth import ApiKeyStore
from rotation import handler as rotation
from rotation import keys as k
from tests.function.support import API_KEY, OTHER_KEY, SECRET, Api, Aws, contract, handler

WINDOW = timedelta(hours=72)
START = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)  # a Friday evening


class Clock:
    """Seconds since the epoch, moved by hand; the handler's monotonic and wall clock at once."""

    def __init__(self) -> None:
        self.now = START.timestamp()

    def __call__(self) -> float:
        return self.now

    def at(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture
def clock(api: Api) -> Clock:
    """A clock driving the real handler's key store (built on the runtime's own client)."""
    moment = Clock()
    runtime = handler.runtime()
    runtime.keys = ApiKeyStore(runtime.secretsmanager, runtime.settings.api_key_secret, clock=moment, wall=moment)
    return moment


def step(aws: Aws, token: str, name: str, clock: Clock | None = None) -> None:
    """One step, with the event's three fields, at the clock's time."""
    now = clock.at if clock else (lambda: START)
    rotation.run_step(aws.secretsmanager, SECRET, token, name, window=WINDOW, now=now)


def rotate(aws: Aws, clock: Clock | None = None, *, between: Any = None) -> str:
    """A whole rotation: the four steps in order; ``between()`` runs after each one."""
    token = str(uuid.uuid4())
    for name in rotation.STEPS:
        step(aws, token, name, clock)
        if between:
            between()
    return token


def current(aws: Aws) -> k.KeySet:
    value = aws.secretsmanager.get_secret_value(SecretId=SECRET, VersionStage="AWSCURRENT")
    return k.parse(value["SecretString"])


def stages(aws: Aws) -> dict[str, list[str]]:
    return aws.secretsmanager.describe_secret(SecretId=SECRET)["VersionIdsToStages"]


def test_create_puts_a_pending_version_with_the_current_keys_and_one_fresh_key(aws: Aws) -> None:
    token = str(uuid.uuid4())
    step(aws, token, "createSecret")
    pending = k.parse(aws.secretsmanager.get_secret_value(SecretId=SECRET, VersionStage="AWSPENDING")["SecretString"])
    assert pending.keys[:2] == (API_KEY, OTHER_KEY) and len(pending.keys) == 3
    fresh = pending.keys[2]
    assert len(fresh) == 43  # secrets.token_urlsafe(32)
    # The original format's keys count as issued now, and retire one window later.
    assert pending.issued_at == {k.fingerprint(key): START for key in pending.keys}
    assert pending.retire_at == {k.fingerprint(API_KEY): START + WINDOW, k.fingerprint(OTHER_KEY): START + WINDOW}
    assert stages(aws)[token] == ["AWSPENDING"]
    assert current(aws).keys == (API_KEY, OTHER_KEY)  # AWSCURRENT untouched

    step(aws, token, "createSecret")  # a retried step changes nothing
    again = aws.secretsmanager.get_secret_value(SecretId=SECRET, VersionStage="AWSPENDING")["SecretString"]
    assert k.parse(again).keys == pending.keys


def test_set_has_nothing_to_set_and_test_accepts_the_pending_version(aws: Aws) -> None:
    token = str(uuid.uuid4())
    step(aws, token, "createSecret")
    before = stages(aws)
    step(aws, token, "setSecret")
    step(aws, token, "testSecret")
    assert stages(aws) == before


def test_finish_moves_awscurrent_and_is_idempotent(aws: Aws) -> None:
    old = next(v for v, s in stages(aws).items() if "AWSCURRENT" in s)
    token = rotate(aws)
    assert "AWSCURRENT" in stages(aws)[token]
    assert "AWSPREVIOUS" in stages(aws)[old]
    step(aws, token, "finishSecret")  # already current: nothing to do
    step(aws, token, "testSecret")
    assert "AWSCURRENT" in stages(aws)[token]
    assert len(current(aws).keys) == 3


def test_a_step_on_a_version_that_is_not_pending_is_refused(aws: Aws) -> None:
    with pytest.raises(rotation.RotationError, match="not AWSPENDING"):
        step(aws, str(uuid.uuid4()), "finishSecret")
    with pytest.raises(rotation.RotationError, match="unknown step"):
        step(aws, str(uuid.uuid4()), "rotateEverything")


def test_the_lambda_entry_point_runs_a_whole_rotation(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(rotation.RETIRE_AFTER_ENV, str(int(WINDOW.total_seconds())))
    monkeypatch.setattr(rotation, "_client", None)
    token = str(uuid.uuid4())
    for name in rotation.STEPS:
        rotation.lambda_handler({"SecretId": SECRET, "ClientRequestToken": token, "Step": name}, None)
    assert "AWSCURRENT" in stages(aws)[token]
    assert len(current(aws).keys) == 3
    monkeypatch.setenv(rotation.RETIRE_AFTER_ENV, "60")
    with pytest.raises(rotation.RotationError, match="longer than the handler's key cache time"):
        rotation.lambda_handler({"SecretId": SECRET, "ClientRequestToken": token, "Step": "createSecret"}, None)


def test_a_second_rotation_after_the_window_retires_the_superseded_keys(aws: Aws) -> None:
    clock = Clock()
    rotate(aws, clock)
    first = current(aws).keys[-1]
    clock.now += WINDOW.total_seconds() + 1
    rotate(aws, clock)
    keys = current(aws)
    assert keys.keys[0] == first and len(keys.keys) == 2  # API_KEY and OTHER_KEY are gone
    assert keys.retire_at[k.fingerprint(first)] == clock.at().replace(microsecond=0) + WINDOW


def test_a_quick_second_rotation_keeps_every_key_inside_its_window(aws: Aws) -> None:
    clock = Clock()
    rotate(aws, clock)
    clock.now += 600
    rotate(aws, clock)
    keys = current(aws)
    assert keys.keys[:2] == (API_KEY, OTHER_KEY) and len(keys.keys) == 4
    assert keys.retire_at[k.fingerprint(API_KEY)] == START + WINDOW  # its window still counts from the first


def test_rotation_under_traffic_refuses_no_valid_key_and_retires_the_old_one(
    api: Api, aws: Aws, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every 10 s a caller that kept the old key and a caller that follows the secret
    (``key_to_use``, re-read each time, as tap does) each send a request, also between the
    rotation's steps; then the window passes."""
    sent, refused_valid = 0, 0

    def traffic() -> None:
        nonlocal sent, refused_valid
        secret = current(aws)
        for key in {API_KEY, k.key_to_use(secret, clock.at())}:
            assert key is not None
            valid = not secret.retired(key, clock.at())
            status = api.call("list_tasks", key=key).status
            sent += 1
            refused_valid += valid and status != 200
        clock.now += 10

    for _ in range(30):
        traffic()
    rotate(aws, clock, between=traffic)
    new = current(aws).keys[-1]
    for _ in range(3 * 60):  # 30 minutes: callers move to the new key after 5
        traffic()
    assert k.key_to_use(current(aws), clock.at()) == new
    assert api.call("list_tasks", key=new).status == 200
    assert api.call("list_tasks", key=API_KEY).status == 200  # still inside its window

    clock.now = (START + WINDOW).timestamp() + 1
    for _ in range(30):
        traffic()
    assert api.call("list_tasks", key=API_KEY).status == 403  # retired, without another rotation
    assert api.call("list_tasks", key=OTHER_KEY).status == 403
    assert api.call("list_tasks", key=new).status == 200
    assert refused_valid == 0
    assert sent > 400
    with capsys.disabled():  # the numbers docs/benchmarks.md quotes
        print(f"\nrotation under traffic: {sent} requests, {refused_valid} refused with a valid key")


def test_a_failed_test_step_leaves_the_secret_usable(api: Api, aws: Aws, clock: Clock) -> None:
    before = aws.secretsmanager.get_secret_value(SecretId=SECRET, VersionStage="AWSCURRENT")
    token = str(uuid.uuid4())
    # A pending version no caller could use (as a broken createSecret or a hand edit would leave).
    aws.secretsmanager.put_secret_value(
        SecretId=SECRET,
        ClientRequestToken=token,
        SecretString=json.dumps({"api_keys": []}),
        VersionStages=["AWSPENDING"],
    )
    step(aws, token, "createSecret", clock)  # the version exists: left as it is
    step(aws, token, "setSecret", clock)
    with pytest.raises(rotation.RotationError, match="no key the API would accept"):
        step(aws, token, "testSecret", clock)
    # Secrets Manager stops there: AWSCURRENT is where it was and requests are served.
    after = aws.secretsmanager.get_secret_value(SecretId=SECRET, VersionStage="AWSCURRENT")
    assert (after["VersionId"], after["SecretString"]) == (before["VersionId"], before["SecretString"])
    clock.now += contract.KEY_CACHE_TTL_SECONDS
    assert api.call("list_tasks").status == 200
    assert api.call("list_tasks", key=OTHER_KEY).status == 200
    # The next rotation (a new token) takes the AWSPENDING label over and succeeds.
    good = rotate(aws, clock)
    assert "AWSCURRENT" in stages(aws)[good] and "AWSPENDING" not in stages(aws).get(token, [])


def test_a_malformed_current_secret_fails_create_and_changes_nothing(aws: Aws) -> None:
    aws.secretsmanager.put_secret_value(SecretId=SECRET, SecretString='{"api_keys": "one"}')
    with pytest.raises(k.MalformedSecret, match="list of non-empty strings"):
        step(aws, str(uuid.uuid4()), "createSecret")
    assert [s for s in stages(aws).values() if "AWSPENDING" in s] == []


def test_the_pending_version_cannot_be_read_before_create(aws: Aws) -> None:
    with pytest.raises(ClientError):
        aws.secretsmanager.get_secret_value(SecretId=SECRET, VersionStage="AWSPENDING")


def test_testing_the_configuration_of_a_secret_without_a_value_passes(aws: Aws) -> None:
    """Turning rotation on (without rotating) runs testSecret alone; a new stack's secret is empty."""
    aws.secretsmanager.create_secret(Name="empty-secret")
    before = aws.secretsmanager.describe_secret(SecretId="empty-secret").get("VersionIdsToStages")
    rotation.run_step(aws.secretsmanager, "empty-secret", str(uuid.uuid4()), "testSecret", window=WINDOW)
    assert aws.secretsmanager.describe_secret(SecretId="empty-secret").get("VersionIdsToStages") == before
