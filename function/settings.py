"""Configuration and the API's limits, in one place.

Limits live here rather than next to the code that enforces them so the
documentation (docs/api.md), the validator and the tests all quote the same
numbers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from function.contract import API_KEY_SECRET_ENV, LOG_BUCKET_ENV, TABLE_ENV
from function.contract import KEY_CACHE_TTL_SECONDS as KEY_CACHE_TTL_SECONDS  # noqa: PLC0414 (re-export)

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

# How long a client_token replays the task it created; after that the token is free
# and the same token creates a new task. Token items expire from the table (TTL)
# at the end of the window.
TOKEN_REPLAY_WINDOW = timedelta(hours=24)

# Claiming the next task (see claiming.py and docs/api.md, "Races"): a container that
# has not lost a race for CLAIM_CONTENTION_MEMORY_SECONDS writes to the head of the
# queue; one that has draws among the first `spread` candidates, where each lost race
# doubles the spread (to at least CLAIM_SPREAD_AFTER_LOSS, at most CLAIM_SPREAD_MAX).
# The Query reads max(CLAIM_MIN_CANDIDATES, spread) candidates, and a claim makes at
# most CLAIM_MAX_CALLS DynamoDB calls before answering 409 claim_contention. Under
# contention the container holds what a read returned, and its next claims draw from
# it for up to CLAIM_HELD_SECONDS without reading again.
CLAIM_MIN_CANDIDATES = 16
CLAIM_SPREAD_AFTER_LOSS = 512
CLAIM_SPREAD_MAX = 1024
CLAIM_SPREAD_PER_CLAIMER = 8
CLAIM_CONTENTION_MEMORY_SECONDS = 5.0
CLAIM_CONTENTION_MEMORY_CLAIMS = 10
CLAIM_MAX_CALLS = 5
CLAIM_HELD_SECONDS = 5.0

# API keys: full re-read every 5 minutes, and an early re-read (at most every
# 30 s) when a key we do not know arrives, so a freshly added key works fast
# without letting unknown-key floods hammer Secrets Manager.
# KEY_CACHE_TTL_SECONDS (300 s) lives in function/contract.py: the stack checks the rotation
# window against it.
KEY_REFRESH_MIN_INTERVAL_SECONDS = 30.0

# Short timeouts and a bounded number of attempts keep a sick dependency from
# eating the Lambda's whole timeout; the handler then answers 503.
AWS_CONNECT_TIMEOUT_SECONDS = 1.0
AWS_READ_TIMEOUT_SECONDS = 2.0
AWS_MAX_ATTEMPTS = 3  # in total, first try included (botocore's "total_max_attempts")


@dataclass(frozen=True)
class Settings:
    """The three names this function needs from its environment."""

    table_name: str
    log_bucket: str
    api_key_secret: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            table_name=os.environ.get(TABLE_ENV, ""),
            log_bucket=os.environ.get(LOG_BUCKET_ENV, ""),
            api_key_secret=os.environ.get(API_KEY_SECRET_ENV, ""),
        )

    def missing(self) -> list[str]:
        """Names of unset variables; checked per request so a misconfigured
        function answers a clean 500 (and logs why) instead of crashing init."""
        pairs = (
            (TABLE_ENV, self.table_name),
            (LOG_BUCKET_ENV, self.log_bucket),
            (API_KEY_SECRET_ENV, self.api_key_secret),
        )
        return [name for name, value in pairs if not value]
