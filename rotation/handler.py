"""The API key secret's rotation function: the four steps Secrets Manager calls.

Secrets Manager invokes ``rotation.handler.lambda_handler`` once per step with
``{"SecretId", "ClientRequestToken", "Step"}``; the token names the new version. Each step
is idempotent (Secrets Manager retries a step that failed or timed out), as AWS's rotation
template requires:

* ``createSecret``: unless the token's version already holds a value, put one labelled
  ``AWSPENDING``: the current keys (retired ones dropped, the others given their retirement
  time) plus one fresh random key (rotation/keys.py);
* ``setSecret``: nothing to do. The keys live only in this secret; no other system (a
  database, a third party) holds them;
* ``testSecret``: the pending value parses and holds at least one key the handler accepts;
* ``finishSecret``: move ``AWSCURRENT`` to the token's version (done already: nothing).

A step that fails leaves ``AWSCURRENT`` where it was, so the API keeps serving the keys it
had. Logs name fingerprints, never keys. botocore only (the Lambda runtime's).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import botocore.session
from botocore.exceptions import ClientError

from function.contract import KEY_CACHE_TTL_SECONDS
from rotation import keys as k

#: Environment variable: how long a superseded key keeps working, in seconds (the stack sets it).
RETIRE_AFTER_ENV: Final = "KEY_RETIRE_AFTER_SECONDS"
CURRENT: Final = "AWSCURRENT"
PENDING: Final = "AWSPENDING"
STEPS: Final = ("createSecret", "setSecret", "testSecret", "finishSecret")

logger = logging.getLogger("rotation")
logger.setLevel(logging.INFO)


class RotationError(RuntimeError):
    """A step cannot go on; Secrets Manager records the rotation as failed."""


def _log(message: str, **fields: Any) -> None:
    logger.info(json.dumps({"message": message, **fields}, sort_keys=True))


def _version_stages(client: Any, secret_id: str) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    return stages


def _value(client: Any, secret_id: str, **version: str) -> str:
    return str(client.get_secret_value(SecretId=secret_id, **version)["SecretString"])


def create_secret(client: Any, secret_id: str, token: str, now: datetime, window: timedelta) -> None:
    """Put the pending version unless the token's version already holds one."""
    current = k.parse(_value(client, secret_id, VersionStage=CURRENT))
    try:
        _value(client, secret_id, VersionId=token, VersionStage=PENDING)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    else:
        _log("createSecret: the pending version exists already", token=token)
        return
    fresh = k.new_key(current.keys)
    pending = k.rotated(current, now, window, fresh)
    client.put_secret_value(
        SecretId=secret_id, ClientRequestToken=token, SecretString=k.dump(pending), VersionStages=[PENDING]
    )
    dropped = sorted({k.fingerprint(key) for key in current.keys} - {k.fingerprint(key) for key in pending.keys})
    _log("createSecret: pending version put", token=token, new_key=k.fingerprint(fresh), retired=dropped)


def set_secret(client: Any, secret_id: str, token: str) -> None:
    """Nothing to set: the keys exist only in this secret (the handler reads them from it)."""
    _log("setSecret: nothing to set outside the secret", token=token)


def verify_secret(client: Any, secret_id: str, token: str, now: datetime) -> None:
    """The pending value must parse and hold at least one key the handler accepts now."""
    try:
        pending = k.parse(_value(client, secret_id, VersionId=token, VersionStage=PENDING))
    except k.MalformedSecret as exc:
        raise RotationError(f"testSecret: the pending version is malformed: {exc}") from None
    if not pending.accepted(now):
        raise RotationError("testSecret: the pending version holds no key the API would accept")
    _log("testSecret: pending version is usable", token=token, keys=len(pending.accepted(now)))


def finish_secret(client: Any, secret_id: str, token: str) -> None:
    """Label the token's version AWSCURRENT (taking the label from the version that has it)."""
    current = next((v for v, stages in _version_stages(client, secret_id).items() if CURRENT in stages), None)
    if current == token:
        _log("finishSecret: already current", token=token)
        return
    client.update_secret_version_stage(
        SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current
    )
    _log("finishSecret: version is now AWSCURRENT", token=token, previous=current)


def run_step(  # noqa: PLR0913 (the event's three fields, the client and the two timings)
    client: Any,
    secret_id: str,
    token: str,
    step: str,
    *,
    window: timedelta,
    now: Callable[[], datetime] = k.utc_now,
) -> None:
    """One step of one rotation, after checking the token's version is the one being rotated."""
    if step not in STEPS:
        raise RotationError(f"unknown step {step!r}: expected one of {', '.join(STEPS)}")
    versions = _version_stages(client, secret_id)
    stages = versions.get(token)
    if step == "testSecret" and not any(CURRENT in labels for labels in versions.values()):
        # Turning rotation on without rotating (rotate_immediately = false) runs testSecret
        # alone; before any key is stored there is nothing to test yet.
        _log("testSecret: the secret holds no value yet: nothing to test", token=token)
        return
    if stages is not None and CURRENT in stages:
        _log(f"{step}: version is already AWSCURRENT: nothing to do", token=token)
        return
    # RotateSecret labels the token's version AWSPENDING before calling createSecret; the
    # later steps run only on that version.
    if step != "createSecret" and (stages is None or PENDING not in stages):
        raise RotationError(f"{step}: version {token} of the secret is not AWSPENDING")
    if step == "createSecret":
        create_secret(client, secret_id, token, now(), window)
    elif step == "setSecret":
        set_secret(client, secret_id, token)
    elif step == "testSecret":
        verify_secret(client, secret_id, token, now())
    else:
        finish_secret(client, secret_id, token)


def retirement_window() -> timedelta:
    """The window the stack configured (``KEY_RETIRE_AFTER_SECONDS``)."""
    raw = os.environ.get(RETIRE_AFTER_ENV, "")
    try:
        seconds = float(raw)
    except ValueError:
        raise RotationError(f"{RETIRE_AFTER_ENV}={raw!r} is not a number of seconds") from None
    if seconds <= KEY_CACHE_TTL_SECONDS:
        raise RotationError(f"{RETIRE_AFTER_ENV}={raw} must be longer than the handler's key cache time")
    return timedelta(seconds=seconds)


_client: Any = None


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Secrets Manager's entry point: run the event's step; raise to fail the rotation."""
    global _client  # noqa: PLW0603 - one client per container
    if _client is None:
        _client = botocore.session.Session().create_client("secretsmanager")
    run_step(_client, event["SecretId"], event["ClientRequestToken"], event["Step"], window=retirement_window())
