"""Structured logging: one JSON object per line on stdout, and JSON text that
is always valid UTF-8.

Lambda ships stdout to CloudWatch Logs line by line, so a single JSON line per
event is queryable with Logs Insights without any logging library. ``sys.stdout``
is looked up on every write (not bound at import) so redirected output, as in
tests or the local server, is honoured. ``log`` never raises: a value that
cannot be serialized, or a stdout that cannot be written, degrades the line
(fields as text, then stderr) instead of failing the request being logged.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, Final

_MAX_FALLBACK_CHARS: Final = 65_536


def dumps(value: Any) -> str:
    """Compact JSON that encodes to UTF-8: non-ASCII stays readable, and only
    text holding lone surrogates (not encodable) falls back to ``\\u`` escapes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, separators=(",", ":"), default=str)
    return text


def log(level: str, message: str, **fields: Any) -> None:
    """Write one structured line. Values that are not JSON become strings
    rather than breaking the line."""
    timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {"timestamp": timestamp, "level": level, "message": message, **fields}
    try:
        line = json.dumps(record, default=str, separators=(",", ":"))
    except Exception as exc:  # e.g. RecursionError, a failing __str__
        line = _fallback_line(timestamp, level, message, fields, exc)
    for stream_name in ("stdout", "stderr"):
        try:
            stream = getattr(sys, stream_name)
            stream.write(line + "\n")
            stream.flush()
            return
        except Exception:  # try the next stream; a log write must never fail a request
            continue


def _fallback_line(timestamp: str, level: str, message: str, fields: dict[str, Any], exc: BaseException) -> str:
    """Built without ``json``: every value as its bounded ASCII ``repr``,
    escaped by hand into a JSON string."""
    parts = [("timestamp", timestamp), ("level", level), ("message", message)]
    parts.append(("log_error", f"{type(exc).__name__}: the line's fields could not be serialized"))
    for name, value in fields.items():
        try:
            text = ascii(value)
        except Exception as err:  # a value whose repr fails is named, not fatal
            text = f"<unprintable {type(value).__name__}: {type(err).__name__}>"
        parts.append((ascii(name)[1:-1], text[:_MAX_FALLBACK_CHARS]))
    return "{" + ",".join(f"{_quote(k)}:{_quote(v)}" for k, v in parts) + "}"


def _quote(text: str) -> str:
    ascii_text = ascii(text)[1:-1] if not text.isascii() or not text.isprintable() else text
    return '"' + ascii_text.replace("\\", "\\\\").replace('"', '\\"') + '"'
