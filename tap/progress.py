"""A progress line on stderr: a bar when the total is known, counts and a rate.

On a terminal the line is redrawn in place at most five times a second; otherwise (a log
file, CI) a full line is written every ten seconds, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import Final

_BAR_WIDTH: Final = 24
_TTY_INTERVAL: Final = 0.2
_LOG_INTERVAL: Final = 10.0


class ProgressLine:
    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.out = sys.stderr
        self.started = time.monotonic()
        self._tty = self.out.isatty()
        self._last = 0.0 if self._tty else self.started
        self._drawn = False

    def update(self, done: int, detail: str = "") -> None:
        now = time.monotonic()
        if now - self._last < (_TTY_INTERVAL if self._tty else _LOG_INTERVAL):
            return
        self._last = now
        text = self.render(done, detail, now - self.started)
        if self._tty:
            self.out.write("\r\x1b[2K" + text)
            self._drawn = True
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def finish(self, done: int, detail: str = "") -> None:
        """Draw the final state on its own line."""
        text = self.render(done, detail, time.monotonic() - self.started)
        self.out.write(("\r\x1b[2K" if self._drawn else "") + text + "\n")
        self.out.flush()

    def render(self, done: int, detail: str, elapsed: float) -> str:
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.total:
            filled = min(_BAR_WIDTH, _BAR_WIDTH * done // self.total)
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            head = f"{self.label} [{bar}] {100 * done // self.total:3d}% {done}/{self.total}"
        else:
            head = f"{self.label} {done}"
        tail = f" · {detail}" if detail else ""
        return f"{head} · {rate:.0f}/s · {elapsed:.1f} s{tail}"
