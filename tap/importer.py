"""``tap import FILE``: create one task per JSONL line, idempotently, with bounded concurrency
(docs/cli.md, "tap import FILE")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final, TextIO

from tap.client import Answer, ApiClient, CallFailed
from tap.progress import ProgressLine

TOKEN_PREFIX: Final = "tap-import-"
REQUIRED: Final = ("prompt", "responses")
#: The API's answers that concern the key, not one line: the whole import stops.
_KEY_STATUSES: Final = frozenset({401, 403})


class ImportStopped(Exception):
    """A failure every further line would meet too; the message is one line."""


def client_token(task: dict[str, Any]) -> str:
    """``tap-import-`` + 40 hex digits of SHA-256 over the task as canonical JSON: one token per content."""
    canonical = json.dumps(task, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return TOKEN_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


def parse_line(raw: bytes) -> dict[str, Any]:
    """The task of one line, or ``ValueError`` with the reason it is rejected."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start + 1})") from None
    try:
        task = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(task, dict):
        raise ValueError(f"must be a JSON object (a task), got {type(task).__name__}")
    missing = [name for name in REQUIRED if task.get(name) is None]
    if missing:
        raise ValueError(f"missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    return task


@dataclass
class Summary:
    created: int = 0
    existing: int = 0
    failed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0

    @property
    def done(self) -> int:
        return self.created + self.existing + self.failed + len(self.rejected)

    def detail(self) -> str:
        return f"created {self.created} · already there {self.existing} · rejected {len(self.rejected)}" + (
            f" · failed {self.failed}" if self.failed else ""
        )


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield number, raw.rstrip(b"\r\n")


@dataclass
class Importer:
    """Imports ``path`` into ``summary``; rejected lines go verbatim to ``rejects_path``
    (written only when a line is rejected). ``summary`` holds the counts so far even when
    the import stops or is interrupted."""

    client: ApiClient
    path: Path
    rejects_path: Path
    concurrency: int
    summary: Summary
    _rejects: TextIO | None = None
    _pending: dict[Future[Answer], tuple[int, bytes]] = field(default_factory=dict)

    def run(self) -> None:
        try:
            self.summary.lines = sum(1 for _ in _lines(self.path))
        except OSError as exc:
            raise ImportStopped(f"cannot read {self.path}: {exc.strerror or exc}") from None
        progress = ProgressLine("import", self.summary.lines)
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tap-import")
        try:
            for number, raw in _lines(self.path):
                try:
                    task = parse_line(raw)
                except ValueError as exc:
                    self._reject(number, raw, str(exc))
                    continue
                request = {"action": "create_task", "task": task, "client_token": client_token(task)}
                self._pending[executor.submit(self.client.call_with_retries, request)] = (number, raw)
                while len(self._pending) >= 2 * self.concurrency:
                    self._settle(progress)
            while self._pending:
                self._settle(progress)
        except OSError as exc:
            raise ImportStopped(f"cannot read {self.path}: {exc.strerror or exc}") from None
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            if self._rejects is not None:
                self._rejects.close()
            progress.finish(self.summary.done, self.summary.detail())

    def _reject(self, number: int, raw: bytes, reason: str) -> None:
        self.summary.rejected.append((number, reason))
        if self._rejects is None:
            self._rejects = self.rejects_path.open("w", encoding="utf-8")
        self._rejects.write(raw.decode("utf-8", "replace") + "\n")

    def _settle(self, progress: ProgressLine) -> None:
        finished, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        for future in finished:
            number, raw = self._pending.pop(future)
            try:
                answer = future.result()
            except CallFailed as failure:
                # unreachable, not the task API (wrong URL, signature refused), or a bad key
                if not failure.transient and (failure.code is None or failure.status in _KEY_STATUSES):
                    raise ImportStopped(failure.line()) from None
                if failure.transient:
                    self.summary.failed += 1
                else:
                    self._reject(number, raw, failure.line())
                continue
            if answer.status == HTTPStatus.CREATED:
                self.summary.created += 1
            else:
                self.summary.existing += 1
        progress.update(self.summary.done, self.summary.detail())
