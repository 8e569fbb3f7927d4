"""Which queue candidate a claim writes to next, and how widely a container spreads.

Every claimer reads the same head of the queue, so if all of them wrote to the head
first, N concurrent claimers would lose N - 1 races per task handed out. A container
(one Lambda instance serves one request at a time) therefore remembers whether its own
claims have been losing races:

* no lost race in the last ``CLAIM_CONTENTION_MEMORY_SECONDS``: the spread is 1 and the
  claim writes to the head -- the highest-priority, oldest pending task;
* each lost race doubles the spread (to at least ``CLAIM_SPREAD_AFTER_LOSS``, at most
  ``CLAIM_SPREAD_MAX``), and the next write goes to a task drawn at random among the
  first ``spread`` candidates in queue order; a claim won with its first write shrinks
  the spread by an eighth.

With N claimers drawing among S candidates, a draw collides with probability about
N / (2 S), so the spread settles where losses are rare (a few times N) and follows the
concurrency up and down without any extra DynamoDB call. The ordering kept is exactly
"one of the first ``spread`` pending tasks in queue order (priority, then age) as the
claim's Query read them", with ``spread <= CLAIM_SPREAD_MAX``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import settings as s

T = TypeVar("T")


class Spread:
    """One container's contention memory (thread-safe: the local server shares one)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._width = 1
        self._lost_at = float("-inf")
        self._claim_seconds = 0.0

    def width(self) -> int:
        """How many candidates the next first write draws from (1 = the head).

        Contention is remembered for ``CLAIM_CONTENTION_MEMORY_SECONDS``, or for
        ``CLAIM_CONTENTION_MEMORY_CLAIMS`` times as long as the last claim took when
        claims are that slow (an overloaded table, or the local emulator)."""
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
            self._lost_at = self._clock()
            self._width = min(s.CLAIM_SPREAD_MAX, max(s.CLAIM_SPREAD_AFTER_LOSS, 2 * self._width))
            return self._width

    def observed(self, taken: int) -> int:
        """Between two reads of the queue, other claims took ``taken`` of the tasks the
        first read returned: about that many claims are in flight, so draw among
        ``CLAIM_SPREAD_PER_CLAIMER`` times as many. Returns the new width."""
        with self._lock:
            self._width = min(s.CLAIM_SPREAD_MAX, max(self._width, s.CLAIM_SPREAD_PER_CLAIMER * taken))
            return self._width

    def won_first_time(self) -> None:
        """A claim's first write won: contention may be easing."""
        with self._lock:
            self._width = max(1, self._width - self._width // 16)

    def pick(self, candidates: Sequence[T], tried: set[int], width: int) -> int | None:
        """Index of the next candidate to write to: the head while ``width`` is 1, else a
        random untried one among the first ``width``; None when all of those were tried."""
        if width <= 1 and 0 not in tried and candidates:
            return 0
        window = [i for i in range(min(width, len(candidates))) if i not in tried]
        return self._rng.choice(window) if window else None


def oldest_age_seconds(pending: list[dict[str, Any]], now: datetime) -> float:
    """Age of the oldest of the pending candidates a claim read (their queue keys
    carry ``created_at``; the head of the queue is always among them); 0 when none."""
    if not pending:
        return 0.0
    oldest = min(c["queue_key"].split("#")[1] for c in pending)
    created = datetime.strptime(oldest, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return round(max((now - created).total_seconds(), 0.0), 3)


def taken(before: list[dict[str, Any]], after: list[dict[str, Any]], complete: bool) -> int:
    """How many candidates of an earlier read are gone from a later one, counting only
    those the later read reached (all of them when it reached the end of the queue)."""
    present = {c["id"] for c in after}
    horizon = None if complete or not after else after[-1]["queue_key"]
    return sum(1 for c in before if c["id"] not in present and (horizon is None or c["queue_key"] <= horizon))
