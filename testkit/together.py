"""Threads released at one moment, as a load test or a benchmark needs its clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def released_together(count: int, work: Callable[[int], None]) -> float:
    """Run ``work(0)`` … ``work(count - 1)``, each on a thread of its own, all released by one
    barrier once every thread has started; returns the seconds from the release until the
    last one has ended."""
    start = threading.Barrier(count + 1)

    def run(index: int) -> None:
        start.wait()
        work(index)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began
