"""Opaque ``next_token`` for list_tasks: the Query's LastEvaluatedKey (``id``, ``status``,
``created_at``) as compact JSON in unpadded URL-safe base64. Decoded strictly: anything
we could not have produced for the requested status is a 400, never an AWS
ValidationException turned 500."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final

from function import errors, model

_KEYS: Final = ("created_at", "id", "status")
_TIMESTAMP: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def encode(last_evaluated_key: dict[str, dict[str, Any]] | None) -> str | None:
    if not last_evaluated_key:
        return None
    plain = {name: last_evaluated_key[name]["S"] for name in _KEYS}
    raw = json.dumps(plain, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token: str, status: str) -> dict[str, str]:
    """Return the plain key (attribute -> string) or raise a 400."""
    rejected = errors.invalid_field("next_token", f"is not a token returned by list_tasks for status {status!r}")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise rejected from None
    if (
        not isinstance(key, dict)
        or sorted(key) != list(_KEYS)
        or not all(isinstance(v, str) for v in key.values())
        or key["status"] != status
        or not model.TASK_ID.fullmatch(key["id"])
        or not _TIMESTAMP.fullmatch(key["created_at"])
    ):
        raise rejected
    return key
