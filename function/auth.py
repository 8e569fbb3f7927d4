"""API key check against the ``AWSCURRENT`` version of a Secrets Manager secret, cached per
container. The cache, early re-read and retirement rules are docs/api.md's ("Runtime
behaviour", API keys); the secret's format is function/contract.py's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from function import errors
from function import settings as s
from function.contract import API_KEYS_FIELD, KEY_CACHE_TTL_SECONDS, RETIRE_AT_FIELD
from function.logs import logger


class ApiKeyStore:
    """Per-container cache of the valid API keys. ``clock`` (monotonic seconds) and ``wall`` (epoch
    seconds, which retirement times are compared with) are parameters so tests need not wait."""

    def __init__(
        self,
        client: Any,
        secret_id: str,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._clock = clock
        self._wall = wall
        self._stored: tuple[tuple[bytes, float], ...] = ()  # (key, retires at: epoch s, inf = never)
        self._malformed = False
        self._read_at: float | None = None  # last successful read: drives the TTL
        self._tried_at: float | None = None  # last attempt: rate-limits early refreshes
        self._lock = threading.Lock()

    def check(self, presented: str | None) -> None:
        """Raise 401 for no key, 403 for a wrong key; return for a valid one.
        A value that is not valid Unicode (lone surrogates, e.g. from bytes
        that were not UTF-8) cannot be any stored key: 403 without a read.
        A failing Secrets Manager surfaces as a botocore error (-> 503), a
        malformed secret as RuntimeError (-> 500)."""
        if not presented:
            raise errors.missing_api_key()
        try:
            candidate = presented.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.invalid_api_key() from None
        with self._lock:
            keys = self._accepted()
            if _since(self._read_at, self._clock) >= KEY_CACHE_TTL_SECONDS or (
                not _matches(candidate, keys)
                and _since(self._tried_at, self._clock) >= s.KEY_REFRESH_MIN_INTERVAL_SECONDS
            ):
                self._read()
                keys = self._accepted()
            if self._malformed:
                raise RuntimeError("api key secret is malformed")
            if _matches(candidate, keys):
                return
        raise errors.invalid_api_key()

    def _read(self) -> None:
        self._tried_at = self._clock()
        # AWSCURRENT named, not implied: moto serves the version it last wrote otherwise.
        secret = self._client.get_secret_value(SecretId=self._secret_id, VersionStage="AWSCURRENT")
        self._read_at = self._clock()
        try:
            stored = _parse(secret["SecretString"])
        except (KeyError, TypeError, ValueError) as exc:
            # An operator error: refuse every request (500) rather than guess,
            # say why in the log only, and re-read within 30 s once it is fixed.
            self._stored, self._malformed = (), True
            logger.error("api key secret is malformed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return
        self._stored, self._malformed = stored, False

    def _accepted(self) -> tuple[bytes, ...]:
        now = self._wall()
        return tuple(key for key, retires in self._stored if now < retires)


def _parse(text: str) -> tuple[tuple[bytes, float], ...]:
    """(key, retirement epoch seconds) of every listed key; the secret's format is in function/contract.py."""
    raw = json.loads(text)
    keys = raw[API_KEYS_FIELD]
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise TypeError("api_keys must be a list of non-empty strings")
    retire_at = raw.get(RETIRE_AT_FIELD, {})
    if not isinstance(retire_at, dict):
        raise TypeError("retire_at must be an object of fingerprint: time")
    retires = {str(fp): _epoch(value) for fp, value in retire_at.items()}
    never = float("inf")
    return tuple((k.encode("utf-8"), retires.get(fingerprint(k), never) if retires else never) for k in keys)


def _epoch(value: object) -> float:
    if not isinstance(value, str):
        raise TypeError("a retire_at time must be an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def fingerprint(key: str) -> str:
    """The key's fingerprint as audit records and the secret's times name it."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _since(moment: float | None, clock: Callable[[], float]) -> float:
    return float("inf") if moment is None else clock() - moment


def _matches(candidate: bytes, keys: tuple[bytes, ...]) -> bool:
    """Constant time per key, and every key is compared: the list is built before ``any``."""
    return any([hmac.compare_digest(candidate, key) for key in keys])  # a list, not a generator: no early stop
