"""API key check against a Secrets Manager secret, cached per container (docs/api.md,
"Runtime behaviour"). An unknown key triggers an early re-read, rate-limited so a flood
of wrong keys costs at most one read per interval. Every known key is compared with
``hmac.compare_digest``, so timing reveals neither which key nor how much of it matched.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from function import errors
from function import settings as s
from function.logs import logger


class ApiKeyStore:
    """Per-container cache of the valid API keys (``clock``: monotonic seconds, for tests)."""

    def __init__(self, client: Any, secret_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._secret_id = secret_id
        self._clock = clock
        self._keys: tuple[bytes, ...] = ()
        self._malformed = False
        self._read_at = float("-inf")  # last successful read: drives the TTL
        self._tried_at = float("-inf")  # last attempt: rate-limits early refreshes
        self._lock = threading.Lock()

    def check(self, presented: str | None) -> None:
        """Raise 401 for no key, 403 for a wrong key (or text that is not valid Unicode);
        a failing Secrets Manager raises a botocore error (503), a malformed secret a
        RuntimeError (500)."""
        if not presented:
            raise errors.missing_api_key()
        try:
            candidate = presented.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.invalid_api_key() from None
        with self._lock:
            now = self._clock()
            if now - self._read_at >= s.KEY_CACHE_TTL_SECONDS or (
                not _matches(candidate, self._keys) and now - self._tried_at >= s.KEY_REFRESH_MIN_INTERVAL_SECONDS
            ):
                self._read()
            if self._malformed:
                raise RuntimeError("api key secret is malformed")
            if _matches(candidate, self._keys):
                return
        raise errors.invalid_api_key()

    def _read(self) -> None:
        self._tried_at = self._clock()
        secret = self._client.get_secret_value(SecretId=self._secret_id)
        self._read_at = self._clock()
        try:
            keys = json.loads(secret["SecretString"])["api_keys"]
            if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
                raise TypeError("api_keys must be a list of non-empty strings")
        except (KeyError, TypeError, ValueError) as exc:
            # An operator error: refuse every request (500) rather than guess,
            # say why in the log only, and re-read within 30 s once it is fixed.
            self._keys, self._malformed = (), True
            logger.error("api key secret is malformed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return
        self._keys, self._malformed = tuple(k.encode("utf-8") for k in keys), False


def _matches(candidate: bytes, keys: tuple[bytes, ...]) -> bool:
    """Constant time per key, and every key is compared (``sum``: no early exit)."""
    return sum(hmac.compare_digest(candidate, key) for key in keys) > 0
