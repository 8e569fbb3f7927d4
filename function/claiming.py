"""Which queue candidate a claim writes to next, and how widely a container spreads.

Every claimer reads the same head of the queue, so if all of them wrote to the head
first, N concurrent claimers would lose N - 1 races per task handed out. A container
(one Lambda instance serves one request at a time) therefore remembers whether its own
claims have been losing races:

* no lost race in the last ``CLAIM_CONTENTION_MEMORY_SECONDS``: the spread is 1 and the
  claim reads the queue and writes to the head -- the highest-priority, oldest pending task;
* each lost race doubles the spread (to at least ``CLAIM_SPREAD_AFTER_LOSS``, at most
  ``CLAIM_SPREAD_MAX``), and the next write goes to a task drawn at random among the
  first ``spread`` candidates in queue order; a claim won with its first write shrinks
  the spread by a sixteenth.

With N claimers drawing among S candidates, a draw collides with probability about
N / (2 S), so the spread settles where losses are rare (a few times N) and follows the
concurrency up and down without any extra DynamoDB call.

A wide read is not thrown away after one claim: the container *holds* the candidates it
has not drawn, and while the spread stays above 1 its next claims draw from them without
reading the queue again, as long as the read is at most ``CLAIM_HELD_SECONDS`` old and was
at least as wide as the current spread. A held candidate another container took
meanwhile costs one lost write, and a lost write makes every earlier read stale, so the
claim reads afresh (the expired-lease fallback included) before it draws again. A drawn
candidate leaves the hold, so claims that share a container (the local server runs many
at once) never draw the same candidate of one read, and those claims read the queue one
at a time (:meth:`Spread.reading`): when many lose a race together, one of them reads
afresh and the others draw from that read.

The ordering kept is exactly "one of the first ``spread`` pending tasks in queue order
(priority, then age) as a Query read them at most ``CLAIM_HELD_SECONDS`` ago", with
``spread <= CLAIM_SPREAD_MAX``; with spread 1 the claim always reads the queue afresh.
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
            self._lost_at = self._last_loss = self._clock()
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

    def reading(self) -> threading.Lock:
        """Held around a claim's "draw from the hold, else read the queue": claims that
        share an instance read one at a time, and those that waited use the read that
        the first of them made (one request at a time in Lambda: never contended)."""
        return self._reading

    def holds(self, status: str, width: int) -> bool:
        """Whether the next draw can come from held ``status`` candidates instead of a new
        read of the queue: only under contention (``width`` > 1), from a read at least
        ``width`` wide, at most ``CLAIM_HELD_SECONDS`` old, made after the last lost write,
        that still has candidates."""
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
        """A fresh read of ``status`` candidates, read for ``width``: hold its first
        ``max(width, 1)`` for drawing; returns the previous read of the same status
        (for :func:`taken`; empty when the previous one read the other queue)."""
        with self._lock:
            previous = self._read if self._held_status == status else []
            self._read = list(candidates)
            self._held = self._read[: max(width, 1)]
            self._held_width, self._held_status, self._read_at = width, status, self._clock()
            return previous

    def draw(self, width: int, status: str) -> dict[str, Any] | None:
        """Take the next ``status`` candidate out of the hold: the head while ``width`` is
        1, else a random one among the first ``width`` held; None when none is held."""
        with self._lock:
            if not self._held or self._held_status != status:
                return None
            index = 0 if width <= 1 else self._rng.randrange(min(width, len(self._held)))
            return self._held.pop(index)


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
