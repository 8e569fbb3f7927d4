"""Configuration and the API's limits, in one place (docs/api.md quotes the same numbers)."""

from __future__ import annotations

import os
from dataclasses import astuple, dataclass
from datetime import timedelta

from function.contract import ENVIRONMENT

MAX_BODY_BYTES = 256 * 1024
MAX_PROMPT_CHARS = 20_000
MAX_RESPONSE_CHARS = 20_000
MIN_RESPONSES = 2
MAX_RESPONSES = 8
DEFAULT_PRIORITY = 5
MAX_METADATA_BYTES = 4 * 1024
MAX_CLIENT_TOKEN_CHARS = 64
MAX_ANNOTATOR_ID_CHARS = 128
MAX_RATIONALE_CHARS = 5_000
MIN_RATING = 1
MAX_RATING = 7
MIN_LIST_LIMIT = 1
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 25
MAX_NEXT_TOKEN_CHARS = 2_048
# Objects and arrays in a request body, the body itself counting as level 1.
MAX_NESTING_DEPTH = 32

LEASE_DURATION = timedelta(minutes=30)

# How long a client_token replays the task it created (token items expire by TTL after).
TOKEN_REPLAY_WINDOW = timedelta(hours=24)

# Claiming the next task: what each number does is in docs/api.md ("Races").
CLAIM_CANDIDATES = 32
CLAIM_MAX_CALLS = 5

# API keys: re-read every KEY_CACHE_TTL_SECONDS (function/contract.py), early for an unknown key.
KEY_REFRESH_MIN_INTERVAL_SECONDS = 30.0

# Short timeouts and a bounded number of attempts keep a sick dependency from
# eating the Lambda's whole timeout; the handler then answers 503.
AWS_CONNECT_TIMEOUT_SECONDS = 1.0
AWS_READ_TIMEOUT_SECONDS = 2.0
AWS_MAX_ATTEMPTS = 3  # in total, first try included (botocore's "total_max_attempts")


@dataclass(frozen=True)
class Settings:
    """The names this function needs from its environment, in ``ENVIRONMENT``'s order."""

    table_name: str
    log_bucket: str
    api_key_secret: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(*(os.environ.get(name, "") for name in ENVIRONMENT))

    def missing(self) -> list[str]:
        """Unset variables; checked per request so a misconfigured function answers a
        clean 500 (and logs why) instead of crashing init."""
        return [name for name, value in zip(ENVIRONMENT, astuple(self), strict=True) if not value]
