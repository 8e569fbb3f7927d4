"""Why a conditional write on a task was refused: the item DynamoDB returned with the
failure (``ALL_OLD``) turned into the caller's error (404, which 409, or a 400 for
feedback that does not fit the task)."""

from __future__ import annotations

from typing import Any

from function import errors, model
from function.commands import SubmitFeedback
from function.errors import ApiError


def why(task_id: str, current: dict[str, Any] | None, annotator: str, verb: str) -> ApiError | None:
    """Why this task's current state refuses the change; None when the state
    itself was fine (for submit: the feedback does not fit the task)."""
    if current is None:
        return errors.task_not_found(task_id)
    status = current["status"]
    if status == model.COMPLETED:
        return errors.task_completed(task_id, verb)
    if status == model.ASSIGNED and current.get("assignee") != annotator:
        return errors.task_assigned(task_id, verb, current.get("lease_expires_at"))
    if status == model.PENDING and verb != "claim":
        return errors.task_not_claimed(task_id, verb)
    return None


def changed(task_id: str) -> ApiError:
    """The condition failed yet the returned state would have passed it: the
    task changed in between. Retrying is safe."""
    return errors.write_conflict(f"task {task_id} changed during the request")


def feedback_misfit(cmd: SubmitFeedback, current: dict[str, Any]) -> ApiError:
    """The task's state accepted the feedback but its shape does not fit the task."""
    fb = cmd.feedback
    kind = current["kind"]
    count = len(current["responses"])
    expected_field = {k: name for name, k in model.FEEDBACK_FIELDS.items()}[kind]
    if kind != fb.kind:
        return errors.invalid_field(
            f"feedback.{fb.field}",
            f"does not fit task {cmd.task_id}: it is a {kind} task; send feedback.{expected_field}",
        )
    if fb.field == "preferred":
        return errors.invalid_field("feedback.preferred", f"must be a response index 0..{count - 1} (got {fb.value})")
    return errors.invalid_field(
        f"feedback.{fb.field}",
        f"must have exactly {count} entries, one per response of task {cmd.task_id} (got {fb.min_responses()})",
    )
