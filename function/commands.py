"""The typed commands the handler dispatches: one frozen value per action, built by
validation.py and executed by tasks.py (neither depends on the other)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class NewTask:
    prompt: str
    responses: tuple[str, ...]
    kind: str
    priority: int
    metadata: dict[str, Any]

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: defaults applied and keys sorted, so a retry
        that omits a default still matches the original request."""
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Feedback:
    """One annotator judgement. ``value`` is the index (pairwise) or the list
    (ranking / ratings); ``field`` is the request field it came from."""

    kind: str
    field: str
    value: int | tuple[int, ...]
    rationale: str | None

    def min_responses(self) -> int:
        """Responses the task must have for this judgement to make sense."""
        return self.value + 1 if isinstance(self.value, int) else len(self.value)

    def stored(self) -> dict[str, Any]:
        value = self.value if isinstance(self.value, int) else list(self.value)
        out: dict[str, Any] = {self.field: value}
        if self.rationale is not None:
            out["rationale"] = self.rationale
        return out


@dataclass(frozen=True)
class CreateTask:
    task: NewTask
    client_token: str | None


@dataclass(frozen=True)
class GetTask:
    task_id: str


@dataclass(frozen=True)
class ListTasks:
    status: str
    limit: int
    start_key: dict[str, str] | None


@dataclass(frozen=True)
class ClaimTask:
    annotator_id: str
    task_id: str | None


@dataclass(frozen=True)
class SubmitFeedback:
    task_id: str
    annotator_id: str
    feedback: Feedback


@dataclass(frozen=True)
class ReleaseTask:
    task_id: str
    annotator_id: str


Command = CreateTask | GetTask | ListTasks | ClaimTask | SubmitFeedback | ReleaseTask
