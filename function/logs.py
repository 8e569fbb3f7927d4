"""The handler's structured log: Powertools ``Logger``, one JSON object per line on stdout
(docs/api.md, "Logs"). Ours, because a log write must never fail a request: ``dumps`` (JSON
that always encodes to UTF-8, where a client's lone surrogate would make Powertools' line
unwritable), a line of ASCII ``repr``\\s marked ``log_error`` when even that fails, and a
handler writing to the current ``sys.stdout`` (tests and the local server redirect it), else stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, Final

from aws_lambda_powertools import Logger

SERVICE: Final = "tap-task-api"
_MAX_FALLBACK_CHARS: Final = 65_536


def dumps(value: Any) -> str:
    """Compact JSON that encodes to UTF-8: non-ASCII stays readable, and only text holding
    lone surrogates (not encodable) falls back to ``\\u`` escapes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, separators=(",", ":"), default=str)
    return text


def _serialize(record: dict[str, Any]) -> str:
    try:
        return dumps(record)
    except Exception as exc:  # e.g. RecursionError, a failing __str__: the line is still written
        return _fallback_line(record, exc)


def _fallback_line(record: dict[str, Any], exc: BaseException) -> str:
    """Built without ``json``: level and message as they are, every other value as its
    bounded ASCII ``repr``, escaped by hand into a JSON string."""
    parts = [(name, str(record.get(name))) for name in ("level", "message")]
    parts.append(("log_error", f"{type(exc).__name__}: the line's fields could not be serialized"))
    for name, value in record.items():
        if name in ("level", "message"):
            continue
        try:
            text = ascii(value)
        except Exception as err:  # a value whose repr fails is named, not fatal
            text = f"<unprintable {type(value).__name__}: {type(err).__name__}>"
        parts.append((ascii(name)[1:-1], text[:_MAX_FALLBACK_CHARS]))
    return "{" + ",".join(f"{_quote(k)}:{_quote(v)}" for k, v in parts) + "}"


def _quote(text: str) -> str:
    escaped = ascii(text)[1:-1] if not text.isascii() or not text.isprintable() else text
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _StdoutHandler(logging.Handler):
    """Writes each formatted line to the current ``sys.stdout``, else to ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:  # the formatter itself failed: logging's own report on stderr
            self.handleError(record)
            return
        for name in ("stdout", "stderr"):
            try:
                stream = getattr(sys, name)
                stream.write(line)
                stream.flush()
                return
            except Exception:  # try the next stream; a log write must never fail a request
                continue


logger: Final = Logger(service=SERVICE, logger_handler=_StdoutHandler(), json_serializer=_serialize, use_rfc3339=True)
