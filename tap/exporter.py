"""``tap export``: every task of one status as JSONL, resumable after an interruption through
``<output>.export-state.json`` (docs/cli.md, "Interrupt and resume")."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from tap.client import ApiClient, CallFailed
from tap.progress import ProgressLine

#: Fields of an exported record, in order (see docs/cli.md).
RECORD_FIELDS: Final = (
    "task_id", "status", "kind", "prompt", "responses", "priority", "metadata",
    "feedback", "annotator", "created_at", "updated_at", "completed_at",
)  # fmt: skip


class ExportStateError(CallFailed):
    """The state file does not fit this export; the message is one line."""


def record(task: dict[str, Any]) -> dict[str, Any]:
    """One exported line: the task's content, its judgement and who made it."""
    values = {
        "task_id": task["id"],
        "status": task["status"],
        "kind": task["kind"],
        "prompt": task["prompt"],
        "responses": task["responses"],
        "priority": task["priority"],
        "metadata": task.get("metadata", {}),
        "feedback": task.get("feedback"),
        "annotator": task.get("assignee"),
        "created_at": task["created_at"],
        "updated_at": task["updated_at"],
        "completed_at": task.get("completed_at"),
    }
    return {name: values[name] for name in RECORD_FIELDS}


def state_path(output: Path) -> Path:
    return output.with_name(output.name + ".export-state.json")


@dataclass
class _State:
    status: str
    next_token: str | None
    count: int
    size: int

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.__dict__))
        os.replace(tmp, path)


def _load_state(path: Path, status: str) -> _State | None:
    try:
        raw = json.loads(path.read_text())
        state = _State(str(raw["status"]), raw["next_token"], int(raw["count"]), int(raw["size"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExportStateError(
            f"{path} is not a state file tap export wrote ({exc}); remove it to start over"
        ) from None
    if state.status != status:
        raise ExportStateError(
            f"{path} belongs to an export of status {state.status!r}; use --status {state.status} "
            "to resume it, or remove it to start over"
        )
    return state


def run_export(client: ApiClient, status: str, output: Path, page_size: int) -> tuple[int, int]:
    """Export; the records in ``output`` in all, and how many of them an earlier run wrote."""
    state_file = state_path(output)
    state = _load_state(state_file, status)
    resumed_from = 0
    handle: BinaryIO
    if state is not None and output.is_file() and output.stat().st_size >= state.size:
        resumed_from = state.count
        handle = output.open("r+b")
        handle.truncate(state.size)
        handle.seek(state.size)
    else:
        state = _State(status, None, 0, 0)
        handle = output.open("wb")
        state.save(state_file)
    progress = ProgressLine(f"export {status}")
    with handle:
        while True:
            token = {"next_token": state.next_token} if state.next_token else {}
            page = client.call_with_retries({"action": "list_tasks", "status": status, "limit": page_size} | token).body
            for task in page.get("tasks", []):
                line = json.dumps(record(task), ensure_ascii=False, separators=(",", ":")) + "\n"
                handle.write(line.encode("utf-8"))
                state.count += 1
            handle.flush()
            os.fsync(handle.fileno())
            state.size = handle.tell()
            state.next_token = page.get("next_token")
            state.save(state_file)
            progress.update(state.count - resumed_from, f"{state.count} in {output.name}")
            if not state.next_token:
                break
    progress.finish(state.count - resumed_from, f"{state.count} in {output.name}")
    state_file.unlink()
    return state.count, resumed_from
