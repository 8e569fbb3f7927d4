"""Numbered steps with durations, and failures that say what to do instead of a traceback."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Exit status after Ctrl-C, as a shell reports a process ended by SIGINT.
EXIT_INTERRUPTED = 130


class StepFailed(Exception):
    """An expected failure: what went wrong, why, and what the user can do about it."""

    def __init__(self, why: str, todo: str, details: str = "") -> None:
        super().__init__(why)
        self.why = why
        self.todo = todo
        self.details = details

    @classmethod
    def from_report(cls, report: str) -> StepFailed:
        """From a ``why``, ``details`` lines and ``what to do: …`` report (workspace.emulator's errors)."""
        why, _, rest = report.partition("\n")
        details, _, todo = rest.rpartition("what to do: ")
        return cls(why, todo or "see the emulator log", details.rstrip("\n"))


class Progress:
    """``[3/8] terraform apply … done in 41.2 s (notes)``, one line per step."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.index = 0
        self.current: str | None = None

    @contextmanager
    def step(self, title: str) -> Iterator[list[str]]:
        """One step; what the caller appends to the list it yields is shown after the step's duration."""
        self.index += 1
        self.current = title
        print(f"[{self.index}/{self.total}] {title} …", end="", flush=True)
        started = time.monotonic()
        notes: list[str] = []
        try:
            yield notes
        except BaseException as exc:
            word = "interrupted" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            print(f" {word} after {time.monotonic() - started:.1f} s", flush=True)
            raise
        shown = f" ({'; '.join(notes)})" if notes else ""
        print(f" done in {time.monotonic() - started:.1f} s{shown}", flush=True)
        self.current = None

    def failed(self, exc: StepFailed | KeyboardInterrupt, after_interrupt: str) -> int:
        """Report a failure of the current step (exit status 1) or a Ctrl-C during it (130,
        with ``after_interrupt`` after the step's name), without a traceback."""
        if isinstance(exc, KeyboardInterrupt):
            print(f"\ninterrupted during '{self.current}'{after_interrupt}", file=sys.stderr)
            return EXIT_INTERRUPTED
        where = f"step '{self.current}' failed" if self.current else "failed"
        print(f"\nerror: {where}: {exc.why}", file=sys.stderr)
        if exc.details:
            print(exc.details.rstrip("\n"), file=sys.stderr)
        print(f"what to do: {exc.todo}", file=sys.stderr, flush=True)
        return 1
