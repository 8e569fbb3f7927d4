"""Which queue candidate a claim writes to next: one container's contention memory.

If every claimer wrote to the head of the queue, N concurrent claimers would lose N - 1
races per task handed out. So a container that has lost no race lately writes to the
head, and one that has draws at random among the first ``spread`` candidates; a draw
collides with probability about N / S, so the spread follows the concurrency it sees
(its own lost races, tasks taken between its reads) without an extra DynamoDB call.
Under contention it holds a read's undrawn candidates for its next claims. The rules,
the numbers and the ordering bound they keep are in docs/api.md ("Races").
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from function import settings as s


class Spread:
    """One container's contention memory (thread-safe: the local server shares one)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self._width = 1
        self._lost_at = float("-inf")
        self._claim_seconds = 0.0
        self._read: list[dict[str, Any]] = []  # the last read, in queue order
        self._held: list[dict[str, Any]] = []  # what of it is left to draw
        self._held_width, self._held_status, self._read_at = 0, "", float("-inf")
        self._last_loss = float("-inf")  # when a write last lost: a hold older than that is stale

    def width(self) -> int:
        """How many candidates the next first write draws from (1 = the head); slow
        claims (an overloaded table, the emulator) are remembered longer."""
        with self._lock:
            memory = max(s.CLAIM_CONTENTION_MEMORY_SECONDS, s.CLAIM_CONTENTION_MEMORY_CLAIMS * self._claim_seconds)
            if self._clock() - self._lost_at > memory:
                self._width = 1
            return self._width

    def took(self, seconds: float) -> None:
        """A claim finished after ``seconds``; contention it met counts from now."""
        with self._lock:
            now = self._clock()
            self._claim_seconds = seconds
            if self._lost_at >= now - seconds:
                self._lost_at = now

    def lost(self) -> int:
        """A write lost its race: widen, and return the new width."""
        with self._lock:
            self._lost_at = self._last_loss = self._clock()
            self._width = min(s.CLAIM_SPREAD_MAX, max(s.CLAIM_SPREAD_AFTER_LOSS, 2 * self._width))
            return self._width

    def observed(self, taken: int) -> int:
        """Other claims took ``taken`` tasks between two reads: about that many are in
        flight, so widen to ``CLAIM_SPREAD_PER_CLAIMER`` times as many. Returns the width."""
        with self._lock:
            self._width = min(s.CLAIM_SPREAD_MAX, max(self._width, s.CLAIM_SPREAD_PER_CLAIMER * taken))
            return self._width

    def won_first_time(self) -> None:
        """A claim's first write won: contention may be easing."""
        with self._lock:
            self._width = max(1, self._width - self._width // 16)

    def reading(self) -> threading.Lock:
        """Held around a claim's "draw from the hold, else read the queue", so claims
        sharing an instance read one at a time and the others use that read."""
        return self._reading

    def holds(self, status: str, width: int) -> bool:
        """Whether the next draw can come from held ``status`` candidates instead of a
        new read (the conditions are docs/api.md's, "Races")."""
        with self._lock:
            return (
                width > 1
                and self._held_status == status
                and bool(self._held)
                and self._held_width >= width
                and self._last_loss < self._read_at
                and self._clock() - self._read_at <= s.CLAIM_HELD_SECONDS
            )

    def hold(self, candidates: Sequence[dict[str, Any]], width: int, status: str) -> list[dict[str, Any]]:
        """Hold the first ``width`` of a fresh read of ``status`` candidates; returns the
        previous read of the same status (for :func:`taken`)."""
        with self._lock:
            previous = self._read if self._held_status == status else []
            self._read = list(candidates)
            self._held = self._read[: max(width, 1)]
            self._held_width, self._held_status, self._read_at = width, status, self._clock()
            return previous

    def draw(self, width: int, status: str) -> dict[str, Any] | None:
        """Take a held ``status`` candidate: the head at width 1, else a random one among
        the first ``width``; None when none is held."""
        with self._lock:
            if not self._held or self._held_status != status:
                return None
            index = 0 if width <= 1 else self._rng.randrange(min(width, len(self._held)))
            return self._held.pop(index)


def oldest_age_seconds(pending: list[dict[str, Any]], now: datetime) -> float:
    """Age of the oldest pending candidate read (queue keys carry ``created_at``); 0 when none."""
    if not pending:
        return 0.0
    oldest = min(c["queue_key"].split("#")[1] for c in pending)
    created = datetime.strptime(oldest, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return round(max((now - created).total_seconds(), 0.0), 3)


def taken(before: list[dict[str, Any]], after: list[dict[str, Any]], complete: bool) -> int:
    """How many candidates of an earlier read are gone from a later one, among those
    the later read reached (all when it reached the end of the queue)."""
    present = {c["id"] for c in after}
    horizon = None if complete or not after else after[-1]["queue_key"]
    return sum(1 for c in before if c["id"] not in present and (horizon is None or c["queue_key"] <= horizon))
