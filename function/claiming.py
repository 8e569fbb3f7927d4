"""Which queue candidates a claim of the next task reads and writes to, with no memory between
claims: the first ``CLAIM_CANDIDATES`` of one random shard of the queue, else its head, else
expired leases. The rules, the numbers and the ordering bound they keep are docs/api.md's ("Races").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from function import model

#: Where candidates come from, in fallback order: one shard, the queue's head, expired leases.
SHARD: Final = "shard"
HEAD: Final = "head"
EXPIRED: Final = "expired"
SOURCES: Final = (SHARD, HEAD, EXPIRED)
#: Lost writes to the candidates of one read before a claim reads afresh.
LOSSES_PER_READ: Final = 2

_rng = random.SystemRandom()


@dataclass
class Read:
    """Candidates one Query returned, in queue order, and what became of them."""

    source: str
    candidates: list[dict[str, Any]]
    lost: int = 0

    def stale(self) -> bool:
        """Nothing left to try, or lost often enough that others are taking these."""
        return not self.candidates or self.lost >= LOSSES_PER_READ

    def pick(self) -> dict[str, Any]:
        """The next candidate to write to, taken out of the read: at first a random one of
        the best priority read, after a lost race a random one of the rest."""
        pool = self.candidates
        if self.lost == 0 and self.source != EXPIRED:
            best = model.priority_of(pool[0]["queue_key"])
            pool = [c for c in pool if model.priority_of(c["queue_key"]) == best]
        chosen = _rng.choice(pool)
        self.candidates.remove(chosen)
        return chosen


@dataclass
class Shards:
    """The shards one claim has read, so that a second read goes to another."""

    read: set[str] = field(default_factory=set)

    def next(self) -> str:
        """A random shard this claim has not read yet (any, once it has read them all)."""
        shards = [model.shard_name(n) for n in range(model.QUEUE_SHARDS)]
        shard = _rng.choice([n for n in shards if n not in self.read] or shards)
        self.read.add(shard)
        return shard


def oldest_age_seconds(pending: list[dict[str, Any]], now: datetime) -> float:
    """Age of the oldest pending candidate read (queue keys carry ``created_at``); 0 when none."""
    if not pending:
        return 0.0
    oldest = min(c["queue_key"].split("#")[1] for c in pending)
    created = datetime.strptime(oldest, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return round(max((now - created).total_seconds(), 0.0), 3)
