"""Structured logging: one JSON object per line on stdout.

Lambda ships stdout to CloudWatch Logs line by line, so a single JSON line per
event is queryable with Logs Insights without any logging library. ``sys.stdout``
is looked up on every write (not bound at import) so redirected output, as in
tests or the local server, is honoured.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any


def log(level: str, message: str, **fields: Any) -> None:
    """Write one structured line. Values that are not JSON become strings
    rather than breaking the line."""
    record = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "message": message,
        **fields,
    }
    sys.stdout.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()
