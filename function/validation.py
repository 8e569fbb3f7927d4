"""Request validation: a parsed JSON body in, one typed command out.

Everything a client can get wrong without looking at the table is checked here,
before any AWS call, and reported as a 400 that names the field and the limit.
Checks that need the stored task (e.g. "is this index within the task's
responses?") are conditions on the single DynamoDB write instead; see tasks.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final, Union

import model
import paging
import settings as s
from contract import MAX_PRIORITY, MIN_PRIORITY
from errors import ApiError, bad_request, invalid_field



@dataclass(frozen=True)
class NewTask:
    prompt: str
    responses: tuple[str, ...]
    kind: str
    priority: int
    metadata: dict[str, Any]

    def canonical_json(self) -> str:
        """Defaults applied and keys sorted, so a retry that omits a default
        still matches the original request."""
        return json.dumps(
            {
                "prompt": self.prompt,
                "responses": list(self.responses),
                "kind": self.kind,
                "priority": self.priority,
                "metadata": self.metadata,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def fingerprint(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


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

    def exact_length(self) -> bool:
        return not isinstance(self.value, int)

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


Command = Union[CreateTask, GetTask, ListTasks, ClaimTask, SubmitFeedback, ReleaseTask]

_MISSING: Final = object()
_FEEDBACK_FIELDS: Final = {"preferred": model.PAIRWISE, "ranking": model.RANKING, "ratings": model.RATING}


def action_name(payload: Any) -> str | None:
    """The requested action, if it is a string; used for audit and logs even
    when the rest of the request is invalid."""
    if isinstance(payload, dict) and isinstance(payload.get("action"), str):
        return payload["action"][:64]
    return None


def parse_command(payload: Any) -> Command:
    if not isinstance(payload, dict):
        raise bad_request("invalid_request", "request body must be a JSON object")
    if "action" not in payload:
        raise ApiError(400, "missing_field", "action is required; expected one of " + ", ".join(_PARSERS))
    action = payload["action"]
    parser = _PARSERS.get(action) if isinstance(action, str) else None
    if parser is None:
        raise bad_request("unknown_action", f"unknown action {action!r}; expected one of " + ", ".join(_PARSERS))
    return parser(payload)


def _create_task(p: dict[str, Any]) -> CreateTask:
    _only(p, "request", {"action", "task", "client_token"})
    raw = _required(p, "task", "task")
    if not isinstance(raw, dict):
        raise invalid_field("task", "must be an object")
    _only(raw, "task", {"prompt", "responses", "kind", "priority", "metadata"})
    prompt = _text(raw, "prompt", "task.prompt", 1, s.MAX_PROMPT_CHARS)
    responses = raw.get("responses", _MISSING)
    if responses is _MISSING:
        raise ApiError(400, "missing_field", "task.responses is required")
    if not isinstance(responses, list) or not s.MIN_RESPONSES <= len(responses) <= s.MAX_RESPONSES:
        raise invalid_field(
            "task.responses",
            f"must be a list of {s.MIN_RESPONSES} to {s.MAX_RESPONSES} strings" + _got_len(responses),
        )
    for i, response in enumerate(responses):
        _check_text(response, f"task.responses[{i}]", 1, s.MAX_RESPONSE_CHARS)
    kind = raw.get("kind", model.PAIRWISE)
    if kind not in model.KINDS:
        raise invalid_field("task.kind", f"must be one of {', '.join(model.KINDS)} (got {kind!r})")
    priority = _integer(raw, "priority", "task.priority", MIN_PRIORITY, MAX_PRIORITY, s.DEFAULT_PRIORITY)
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        raise invalid_field("task.metadata", "must be an object")
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > s.MAX_METADATA_BYTES:
        raise invalid_field("task.metadata", f"must be at most {s.MAX_METADATA_BYTES} bytes as JSON (got {size})")
    token = None
    if "client_token" in p:
        token = _text(p, "client_token", "client_token", 1, s.MAX_CLIENT_TOKEN_CHARS)
    return CreateTask(NewTask(prompt, tuple(responses), kind, priority, metadata), token)


def _get_task(p: dict[str, Any]) -> GetTask:
    _only(p, "request", {"action", "task_id"})
    return GetTask(_task_id(p))


def _list_tasks(p: dict[str, Any]) -> ListTasks:
    _only(p, "request", {"action", "status", "limit", "next_token"})
    status = p.get("status", model.PENDING)
    if status not in model.STATUSES:
        raise invalid_field("status", f"must be one of {', '.join(model.STATUSES)} (got {status!r})")
    limit = _integer(p, "limit", "limit", s.MIN_LIST_LIMIT, s.MAX_LIST_LIMIT, s.DEFAULT_LIST_LIMIT)
    start_key = None
    if p.get("next_token") is not None:
        token = _text(p, "next_token", "next_token", 1, s.MAX_NEXT_TOKEN_CHARS)
        start_key = paging.decode(token, status)
    return ListTasks(status, limit, start_key)


def _claim_task(p: dict[str, Any]) -> ClaimTask:
    _only(p, "request", {"action", "annotator_id", "task_id"})
    annotator = _annotator(p)
    task_id = _task_id(p) if "task_id" in p else None
    return ClaimTask(annotator, task_id)


def _submit_feedback(p: dict[str, Any]) -> SubmitFeedback:
    _only(p, "request", {"action", "task_id", "annotator_id", "feedback"})
    task_id = _task_id(p)
    annotator = _annotator(p)
    raw = _required(p, "feedback", "feedback")
    if not isinstance(raw, dict):
        raise invalid_field("feedback", "must be an object")
    _only(raw, "feedback", {*_FEEDBACK_FIELDS, "rationale"})
    given = [name for name in _FEEDBACK_FIELDS if name in raw]
    if len(given) != 1:
        raise invalid_field(
            "feedback",
            "must contain exactly one of preferred (pairwise), ranking (ranking), ratings (rating)"
            + (f" (got {', '.join(given)})" if given else ""),
        )
    name = given[0]
    value: int | tuple[int, ...]
    if name == "preferred":
        value = _integer(raw, "preferred", "feedback.preferred", 0, s.MAX_RESPONSES - 1, None)
    else:
        value = _int_list(raw[name], f"feedback.{name}")
        if name == "ranking" and sorted(value) != list(range(len(value))):
            raise invalid_field(
                "feedback.ranking",
                f"must be a permutation of the response indexes 0..{len(value) - 1} (got {list(value)})",
            )
        if name == "ratings":
            for i, rating in enumerate(value):
                if not s.MIN_RATING <= rating <= s.MAX_RATING:
                    raise invalid_field(
                        f"feedback.ratings[{i}]", f"must be between {s.MIN_RATING} and {s.MAX_RATING} (got {rating})"
                    )
    rationale = None
    if "rationale" in raw:
        rationale = _text(raw, "rationale", "feedback.rationale", 0, s.MAX_RATIONALE_CHARS)
    return SubmitFeedback(task_id, annotator, Feedback(_FEEDBACK_FIELDS[name], name, value, rationale))


def _release_task(p: dict[str, Any]) -> ReleaseTask:
    _only(p, "request", {"action", "task_id", "annotator_id"})
    return ReleaseTask(_task_id(p), _annotator(p))


_PARSERS: Final = {
    "create_task": _create_task,
    "get_task": _get_task,
    "list_tasks": _list_tasks,
    "claim_task": _claim_task,
    "submit_feedback": _submit_feedback,
    "release_task": _release_task,
}


def _only(obj: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ApiError(
            400,
            "unknown_field",
            f"unknown field(s) in {where}: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
        )


def _required(obj: dict[str, Any], key: str, name: str) -> Any:
    if key not in obj or obj[key] is None:
        raise ApiError(400, "missing_field", f"{name} is required")
    return obj[key]


def _text(obj: dict[str, Any], key: str, name: str, low: int, high: int) -> str:
    value = _required(obj, key, name)
    _check_text(value, name, low, high)
    return value


def _check_text(value: Any, name: str, low: int, high: int) -> None:
    if not isinstance(value, str):
        raise invalid_field(name, f"must be a string (got {_json_type(value)})")
    if not low <= len(value) <= high:
        raise invalid_field(name, f"must be {low} to {high} characters (got {len(value)})")


def _integer(obj: dict[str, Any], key: str, name: str, low: int, high: int, default: int | None) -> int:
    if key not in obj or obj[key] is None:
        if default is None:
            raise ApiError(400, "missing_field", f"{name} is required")
        return default
    value = obj[key]
    if type(value) is not int:  # bool is an int subclass; 5.0 is not an integer here
        raise invalid_field(name, f"must be an integer (got {_json_type(value)})")
    if not low <= value <= high:
        raise invalid_field(name, f"must be between {low} and {high} (got {value})")
    return value


def _int_list(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not s.MIN_RESPONSES <= len(value) <= s.MAX_RESPONSES:
        raise invalid_field(
            name, f"must be a list of {s.MIN_RESPONSES} to {s.MAX_RESPONSES} integers" + _got_len(value)
        )
    for i, item in enumerate(value):
        if type(item) is not int:
            raise invalid_field(f"{name}[{i}]", f"must be an integer (got {_json_type(item)})")
    return tuple(value)


def _task_id(obj: dict[str, Any]) -> str:
    value = _required(obj, "task_id", "task_id")
    if not isinstance(value, str) or not model.TASK_ID.match(value):
        raise invalid_field("task_id", "must be a task id as returned by create_task (lowercase UUID)")
    return value


def _annotator(obj: dict[str, Any]) -> str:
    return _text(obj, "annotator_id", "annotator_id", 1, s.MAX_ANNOTATOR_ID_CHARS)


def _got_len(value: Any) -> str:
    return f" (got {len(value)} items)" if isinstance(value, list) else f" (got {_json_type(value)})"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
