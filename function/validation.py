"""Request validation: a parsed JSON body in, one typed command out.

Everything a client can get wrong without looking at the table is checked here, before
any AWS call, as a 400 naming the field and the limit; checks that need the stored task
are conditions on the DynamoDB write instead (tasks.py). ``null`` means absent (docs/api.md,
"Input rules"): ``dict.get`` gives None for both, the one rule for every field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from function import errors, model, paging
from function import settings as s
from function.commands import (
    ClaimTask,
    Command,
    CreateTask,
    Feedback,
    GetTask,
    ListTasks,
    NewTask,
    ReleaseTask,
    SubmitFeedback,
)
from function.contract import MAX_PRIORITY, MIN_PRIORITY

Body = dict[str, Any]
_MAX_ACTION_CHARS: Final = 64
_JSON_TYPES: Final = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array"}


def action_name(payload: Any) -> str | None:
    """The requested action, if it is a string; used for audit and logs even
    when the rest of the request is invalid."""
    if isinstance(payload, dict) and isinstance(payload.get("action"), str):
        return str(payload["action"][:_MAX_ACTION_CHARS])
    return None


def parse_command(payload: Any) -> Command:
    if not isinstance(payload, dict):
        raise errors.invalid_request("request body must be a JSON object")
    action = payload.get("action")
    if action is None:
        raise errors.missing_field("action", "; expected one of " + ", ".join(ACTIONS))
    if not isinstance(action, str) or action not in ACTIONS:
        raise errors.unknown_action(action, ACTIONS)
    fields, parser = ACTIONS[action]
    _only(payload, "request", {"action", *fields})
    return parser(payload)


def _create_task(p: Body) -> CreateTask:
    raw = _required(p, "task", "task")
    if not isinstance(raw, dict):
        raise errors.invalid_field("task", "must be an object")
    _only(raw, "task", {"prompt", "responses", "kind", "priority", "metadata"})
    prompt = _text(raw, "prompt", "task.prompt", 1, s.MAX_PROMPT_CHARS)
    responses = _required(raw, "responses", "task.responses")
    if not isinstance(responses, list) or not s.MIN_RESPONSES <= len(responses) <= s.MAX_RESPONSES:
        raise errors.invalid_field(
            "task.responses",
            f"must be a list of {s.MIN_RESPONSES} to {s.MAX_RESPONSES} strings" + _got_len(responses),
        )
    for i, response in enumerate(responses):
        _check_text(response, f"task.responses[{i}]", 1, s.MAX_RESPONSE_CHARS)
    kind = _optional(raw, "kind", model.PAIRWISE)
    if kind not in model.KINDS:
        raise errors.invalid_field("task.kind", f"must be one of {', '.join(model.KINDS)} (got {errors.quoted(kind)})")
    priority = _integer(_optional(raw, "priority", s.DEFAULT_PRIORITY), "task.priority", MIN_PRIORITY, MAX_PRIORITY)
    metadata = _optional(raw, "metadata", {})
    if not isinstance(metadata, dict):
        raise errors.invalid_field("task.metadata", f"must be an object (got {_json_type(metadata)})")
    size = len(model.compact_json(metadata).encode("utf-8"))
    if size > s.MAX_METADATA_BYTES:
        raise errors.invalid_field(
            "task.metadata", f"must be at most {s.MAX_METADATA_BYTES} bytes as JSON (got {size})"
        )
    token = _optional_text(p, "client_token", "client_token", 1, s.MAX_CLIENT_TOKEN_CHARS)
    return CreateTask(NewTask(prompt, tuple(responses), kind, priority, metadata), token)


def _list_tasks(p: Body) -> ListTasks:
    status = _optional(p, "status", model.PENDING)
    if status not in model.STATUSES:
        raise errors.invalid_field(
            "status", f"must be one of {', '.join(model.STATUSES)} (got {errors.quoted(status)})"
        )
    limit = _integer(_optional(p, "limit", s.DEFAULT_LIST_LIMIT), "limit", s.MIN_LIST_LIMIT, s.MAX_LIST_LIMIT)
    token = _optional_text(p, "next_token", "next_token", 1, s.MAX_NEXT_TOKEN_CHARS)
    return ListTasks(status, limit, None if token is None else paging.decode(token, status))


def _submit_feedback(p: Body) -> SubmitFeedback:
    task_id = _task_id(p)
    annotator = _annotator(p)
    raw = _required(p, "feedback", "feedback")
    if not isinstance(raw, dict):
        raise errors.invalid_field("feedback", "must be an object")
    _only(raw, "feedback", {*model.FEEDBACK_FIELDS, "rationale"})
    given = [name for name in model.FEEDBACK_FIELDS if raw.get(name) is not None]
    if len(given) != 1:
        raise errors.invalid_field(
            "feedback",
            "must contain exactly one of preferred (pairwise), ranking (ranking), ratings (rating)"
            + (f" (got {', '.join(given)})" if given else ""),
        )
    name = given[0]
    value: int | tuple[int, ...]
    if name == "preferred":
        value = _integer(raw["preferred"], "feedback.preferred", 0, s.MAX_RESPONSES - 1)
    else:
        value = _int_list(raw[name], f"feedback.{name}")
        if name == "ranking" and sorted(value) != list(range(len(value))):
            raise errors.invalid_field(
                "feedback.ranking",
                f"must be a permutation of the response indexes 0..{len(value) - 1} (got {list(value)})",
            )
        if name == "ratings":
            for i, rating in enumerate(value):
                if not s.MIN_RATING <= rating <= s.MAX_RATING:
                    raise errors.invalid_field(
                        f"feedback.ratings[{i}]", f"must be between {s.MIN_RATING} and {s.MAX_RATING} (got {rating})"
                    )
    rationale = _optional_text(raw, "rationale", "feedback.rationale", 0, s.MAX_RATIONALE_CHARS)
    return SubmitFeedback(task_id, annotator, Feedback(model.FEEDBACK_FIELDS[name], name, value, rationale))


#: The six actions: the fields each takes besides ``action``, and its parser.
ACTIONS: Final[dict[str, tuple[set[str], Callable[[Body], Command]]]] = {
    "create_task": ({"task", "client_token"}, _create_task),
    "get_task": ({"task_id"}, lambda p: GetTask(_task_id(p))),
    "list_tasks": ({"status", "limit", "next_token"}, _list_tasks),
    "claim_task": (
        {"annotator_id", "task_id"},
        lambda p: ClaimTask(_annotator(p), None if p.get("task_id") is None else _task_id(p)),
    ),
    "submit_feedback": ({"task_id", "annotator_id", "feedback"}, _submit_feedback),
    "release_task": ({"task_id", "annotator_id"}, lambda p: ReleaseTask(_task_id(p), _annotator(p))),
}


def _only(obj: Body, where: str, allowed: set[str]) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise errors.unknown_field(where, unknown, sorted(allowed))


def _required(obj: Body, key: str, name: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise errors.missing_field(name)
    return value


def _optional(obj: Body, key: str, default: Any) -> Any:
    value = obj.get(key)
    return default if value is None else value


def _text(obj: Body, key: str, name: str, low: int, high: int) -> str:
    value = _required(obj, key, name)
    _check_text(value, name, low, high)
    return str(value)


def _optional_text(obj: Body, key: str, name: str, low: int, high: int) -> str | None:
    return None if obj.get(key) is None else _text(obj, key, name, low, high)


def _check_text(value: Any, name: str, low: int, high: int) -> None:
    if not isinstance(value, str):
        raise errors.invalid_field(name, f"must be a string (got {_json_type(value)})")
    if not low <= len(value) <= high:
        raise errors.invalid_field(name, f"must be {low} to {high} characters (got {len(value)})")


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if type(value) is not int:  # bool is an int subclass; 5.0 is not an integer here
        raise errors.invalid_field(name, f"must be an integer (got {_json_type(value)})")
    if not low <= value <= high:
        raise errors.invalid_field(name, f"must be between {low} and {high} (got {value})")
    return value


def _int_list(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not s.MIN_RESPONSES <= len(value) <= s.MAX_RESPONSES:
        raise errors.invalid_field(
            name, f"must be a list of {s.MIN_RESPONSES} to {s.MAX_RESPONSES} integers" + _got_len(value)
        )
    for i, item in enumerate(value):
        if type(item) is not int:
            raise errors.invalid_field(f"{name}[{i}]", f"must be an integer (got {_json_type(item)})")
    return tuple(value)


def _task_id(obj: Body) -> str:
    value = _required(obj, "task_id", "task_id")
    if not isinstance(value, str) or not model.TASK_ID.fullmatch(value):
        raise errors.invalid_field("task_id", "must be a task id as returned by create_task (lowercase UUID)")
    return value


def _annotator(obj: Body) -> str:
    return _text(obj, "annotator_id", "annotator_id", 1, s.MAX_ANNOTATOR_ID_CHARS)


def _got_len(value: Any) -> str:
    return f" (got {len(value)} items)" if isinstance(value, list) else f" (got {_json_type(value)})"


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (json.loads builds exactly these types)."""
    return _JSON_TYPES.get(type(value), "object")
