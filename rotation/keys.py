"""The API key secret's format and the rules of a rotation, as pure functions.

The secret is ``{"api_keys": [oldest, ..., newest], "issued_at": {fp: time},
"retire_at": {fp: time}}`` (``fp``: the key's 12-hex fingerprint, the one audit records
carry; times ISO 8601 UTC). Only ``api_keys`` is required: a secret of the original shape
has no times, and its keys count as issued at the first rotation.

The rules (docs/security.md, "API key rotation"):

* a rotation appends one fresh key and gives every older key without a ``retire_at`` one:
  now + the retirement window (the window counts from when a key is superseded, so the
  key callers hold keeps working for the whole window after the rotation that replaces
  it); keys whose ``retire_at`` has passed are dropped;
* the handler accepts every listed key whose ``retire_at`` is still ahead (``accepted``);
* callers use the newest key that is at least the handler's key cache time old, when every
  container has read it (``key_to_use``);
* a revoke drops one key, found by fingerprint, at once.

Used by the rotation function (rotation/handler.py) and the operator command (keyops/),
so both read and write exactly this format. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from function.contract import API_KEYS_FIELD, ISSUED_AT_FIELD, KEY_CACHE_TTL_SECONDS, RETIRE_AT_FIELD

#: Bytes of randomness in a new key (``secrets.token_urlsafe``: 43 URL-safe characters).
KEY_BYTES = 32
FINGERPRINT_CHARS = 12


class MalformedSecret(ValueError):
    """The secret's value is not a key set (the message says what is wrong, never a key)."""


def fingerprint(key: str) -> str:
    """The first 12 hex digits of the key's SHA-256: what audit records show."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_CHARS]


def _time(text: object, where: str) -> datetime:
    if not isinstance(text, str):
        raise MalformedSecret(f"{where} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedSecret(f"{where} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class KeySet:
    """The keys of one secret version, oldest first, with their times by fingerprint."""

    keys: tuple[str, ...]
    issued_at: dict[str, datetime] = field(default_factory=dict)
    retire_at: dict[str, datetime] = field(default_factory=dict)

    def retired(self, key: str, now: datetime) -> bool:
        """Whether ``key``'s retirement time has come."""
        retire = self.retire_at.get(fingerprint(key))
        return retire is not None and retire <= now

    def accepted(self, now: datetime) -> tuple[str, ...]:
        """The keys the handler accepts at ``now``."""
        return tuple(key for key in self.keys if not self.retired(key, now))


def parse(text: str) -> KeySet:
    """A secret version's value; :class:`MalformedSecret` when it is not one."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise MalformedSecret("the secret is not JSON") from None
    if not isinstance(raw, dict):
        raise MalformedSecret("the secret is not a JSON object")
    keys = raw.get(API_KEYS_FIELD)
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise MalformedSecret(f"{API_KEYS_FIELD} must be a list of non-empty strings")
    if len(set(keys)) != len(keys):
        raise MalformedSecret(f"{API_KEYS_FIELD} lists a key twice")
    times: list[dict[str, datetime]] = []
    for name in (ISSUED_AT_FIELD, RETIRE_AT_FIELD):
        entries = raw.get(name, {})
        if not isinstance(entries, dict):
            raise MalformedSecret(f"{name} must be an object of fingerprint: time")
        times.append({str(fp): _time(value, f"{name}.{fp}") for fp, value in entries.items()})
    return KeySet(tuple(keys), times[0], times[1])


def dump(key_set: KeySet) -> str:
    """The JSON value of a secret version (times only for listed keys, sorted)."""
    listed = {fingerprint(key) for key in key_set.keys}
    return json.dumps(
        {
            API_KEYS_FIELD: list(key_set.keys),
            ISSUED_AT_FIELD: {fp: _text(t) for fp, t in sorted(key_set.issued_at.items()) if fp in listed},
            RETIRE_AT_FIELD: {fp: _text(t) for fp, t in sorted(key_set.retire_at.items()) if fp in listed},
        },
        separators=(",", ":"),
    )


def new_key(taken: tuple[str, ...] = ()) -> str:
    """A fresh random key whose fingerprint no key in ``taken`` shares."""
    used = {fingerprint(key) for key in taken}
    while True:
        key = secrets.token_urlsafe(KEY_BYTES)
        if fingerprint(key) not in used:
            return key


def rotated(current: KeySet, now: datetime, window: timedelta, fresh: str) -> KeySet:
    """The next version: retired keys dropped, the others given their retirement time, ``fresh`` appended."""
    kept = tuple(key for key in current.keys if not current.retired(key, now))
    issued = {fingerprint(key): current.issued_at.get(fingerprint(key), now) for key in kept}
    retire = {fingerprint(key): current.retire_at.get(fingerprint(key), now + window) for key in kept}
    issued[fingerprint(fresh)] = now
    return KeySet((*kept, fresh), issued, retire)


def revoked(current: KeySet, key_fingerprint: str) -> tuple[KeySet, str]:
    """``current`` without the one key of that fingerprint, and that key; ValueError otherwise."""
    matches = [key for key in current.keys if fingerprint(key) == key_fingerprint]
    if not matches:
        raise ValueError(f"no key of the secret has the fingerprint {key_fingerprint}")
    (key,) = matches
    return replace(current, keys=tuple(k for k in current.keys if k != key)), key


def key_to_use(current: KeySet, now: datetime) -> str | None:
    """The key a caller should send: the newest accepted key issued at least the handler's key
    cache time ago (every container knows it), else the oldest accepted one; None if none."""
    accepted = current.accepted(now)
    settled = now - timedelta(seconds=KEY_CACHE_TTL_SECONDS)
    known = [key for key in accepted if current.issued_at.get(fingerprint(key), settled) <= settled]
    if known:
        return known[-1]
    return accepted[0] if accepted else None


def utc_now() -> datetime:
    """The current time, UTC (secret times are compared in UTC)."""
    return datetime.now(UTC)
