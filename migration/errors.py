"""The one failure every migration command reports the same way: it could not judge or act."""

from __future__ import annotations


class CannotJudge(Exception):
    """Something stops the command before a verdict: what is wrong and what to do (exit status 2)."""

    def __init__(self, what: str, todo: str) -> None:
        super().__init__(what)
        self.what = what
        self.todo = todo
