"""The running local deployment, as ``make local`` records it in ``.local/session.json`` (mode 0600).

``make local`` writes it once the stack is deployed and the API key stored; ``--serve-only``,
the benchmark and the end-to-end tests read it back as a :class:`Session`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from local.paths import LocalPaths

#: How the session file's scalar fields are read back, by their annotation.
_SCALARS: dict[str, Callable[[Any], Any]] = {"int": int, "float": float, "str": str}


class SessionError(ValueError):
    """A session file or a stack's outputs lack what the local platform needs."""


@dataclass(frozen=True)
class StackOutputs:
    """The outputs of the deployed stack that the local platform uses."""

    api_key_secret_arn: str
    lambda_function_name: str
    dynamodb_table_name: str
    s3_log_bucket_name: str
    api_invoke_url: str

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> StackOutputs:
        """From ``{name: value}`` (``terraform output -json``'s values); raises :class:`SessionError`
        naming every missing output."""
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if not isinstance(values.get(name), str) or not values[name]]
        if missing:
            raise SessionError(f"the stack has no output(s) {', '.join(missing)}")
        return cls(**{name: str(values[name]) for name in names})

    @property
    def stage(self) -> str:
        """The stage in the invoke URL (``https://…/<stage>/lambda``)."""
        parts = [part for part in urlsplit(self.api_invoke_url).path.split("/") if part]
        if not parts:
            raise SessionError(f"output api_invoke_url has no stage: {self.api_invoke_url}")
        return parts[0]


@dataclass(frozen=True)
class Session:
    api_port: int
    api_key: str
    emulator_port: int
    function_name: str
    timeout_seconds: float
    memory_mb: int
    stage: str
    #: The deployed function's environment plus what points its boto3 at the emulator.
    handler_env: dict[str, str]
    outputs: StackOutputs
    deployed_at: str

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/lambda"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    def served_on(self, api_port: int) -> Session:
        """The same deployment, served on another API port."""
        return dataclasses.replace(self, api_port=api_port)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        try:
            fields = dataclasses.fields(cls)
            scalars = {f.name: _SCALARS[str(f.type)](data[f.name]) for f in fields if str(f.type) in _SCALARS}
            handler_env = {str(k): str(v) for k, v in dict(data["handler_env"]).items()}
            return cls(**scalars, handler_env=handler_env, outputs=StackOutputs.from_values(data["outputs"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SessionError(f"not a session of make local: {exc}") from None


def write(paths: LocalPaths, session: Session) -> None:
    """Write ``session`` to ``paths.session``, readable by its owner only."""
    paths.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.session, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    readable = {"api_url": session.api_url, "endpoint": session.endpoint}  # for people reading the file
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps({**readable, **dataclasses.asdict(session)}, indent=2) + "\n")


def read(paths: LocalPaths) -> Session | None:
    """The session ``make local`` recorded in ``paths``, or None when there is none (or not a valid one)."""
    try:
        return Session.from_json(json.loads(paths.session.read_text()))
    except (OSError, ValueError):
        return None
