"""Schemathesis against the real handler and moto, in process: docs/openapi.yaml
drives every phase (examples, coverage, fuzzing, stateful links) with positive
and negative data and every check; settings and the suppressed false positives
are in tests/function/schemathesis.toml. The run must end with zero failures.

``TAP_CONTRACT_REPORT=<file>`` also writes the run's numbers as JSON (for
docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import werkzeug
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, StopReason, events
from schemathesis.python import wsgi as schemathesis_wsgi

from tests.function.apigw_wsgi import SPEC_PATH, ApiGatewayProxy
from tests.function.support import API_KEY, Aws, handler

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
BUDGET_SECONDS = 180
PHASES = ("examples", "coverage", "fuzzing", "stateful")
LINKED_ACTIONS = ("create_task", "get_task", "claim_task", "submit_feedback", "release_task")
# Socket-level settings the engine passes with every call. The in-process WSGI
# transport of schemathesis 4.32.5 drops them for its own calls but not for the
# probes some checks send (e.g. ignored_auth), and werkzeug rejects them.
_SOCKET_SETTINGS = ("max_redirects", "verify", "cert", "proxies")


class _InProcessClient(werkzeug.Client):
    def open(self, *args: Any, **kwargs: Any) -> Any:
        for name in _SOCKET_SETTINGS:
            kwargs.pop(name, None)
        return super().open(*args, **kwargs)


@dataclass
class RunStats:
    requests: Counter[str] = field(default_factory=Counter)  # per phase
    statuses: Counter[int] = field(default_factory=Counter)
    stateful_successes: Counter[str] = field(default_factory=Counter)  # per action
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop_reason: str = "not finished"

    def add(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            phase = str(event.phase)
            self.requests[phase] += len(event.recorder.interactions)
            for interaction in event.recorder.interactions.values():
                if interaction.response is None:
                    continue
                self.statuses[interaction.response.status_code] += 1
                if phase == "stateful" and interaction.response.status_code < 300:  # 2xx
                    self.stateful_successes[_action(interaction.request.body)] += 1
            for checks in event.recorder.checks.values():
                self.failures += [f"{c.name}: {c.failure_info}" for c in checks if c.status == Status.FAILURE]
        elif isinstance(event, events.NonFatalError):
            self.errors.append(repr(event.value))
        elif isinstance(event, events.FatalError):
            self.errors.append(repr(event.exception))
        elif isinstance(event, events.EngineFinished):
            self.stop_reason = str(event.stop_reason)

    def summary(self, seconds: float) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "total": sum(self.requests.values()),
            "statuses": dict(sorted(self.statuses.items())),
            "stateful_successes": dict(self.stateful_successes),
            "seconds": round(seconds, 1),
        }


def _action(body: bytes | None) -> str:
    try:
        return str(json.loads(body or b"{}").get("action"))
    except (ValueError, AttributeError):
        return "(not a JSON object)"


def test_schemathesis_finds_no_failure(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(schemathesis_wsgi, "get_client", _InProcessClient)
    monkeypatch.setenv("TAP_CONTRACT_API_KEY", API_KEY)
    app = ApiGatewayProxy(handler.lambda_handler, ROOT / "docs" / "openapi.yaml")
    schema = schemathesis.openapi.from_wsgi(SPEC_PATH, app, config=SchemathesisConfig.from_path(CONFIG))
    stats = RunStats()
    started = time.perf_counter()
    for event in schemathesis.engine.from_schema(schema).execute():
        stats.add(event)
    summary = stats.summary(time.perf_counter() - started)
    capsys.readouterr()  # drop the handler's request lines
    with capsys.disabled():
        print("\nschemathesis:", json.dumps(summary))  # the run's numbers, for docs/benchmarks.md
    if os.environ.get("TAP_CONTRACT_REPORT"):
        Path(os.environ["TAP_CONTRACT_REPORT"]).write_text(json.dumps(summary, indent=2) + "\n")

    assert not stats.errors, stats.errors
    assert stats.stop_reason == StopReason.COMPLETED, stats.stop_reason  # not max-time, not max-failures
    assert not stats.failures, "\n".join(sorted(set(stats.failures))[:20])
    assert all(stats.requests[phase] for phase in PHASES), stats.requests
    assert all(stats.statuses[status] for status in (200, 201, 400, 401, 404, 405, 409)), stats.statuses
    # The links of docs/openapi.yaml were followed: create -> get / claim -> submit / release.
    assert all(stats.stateful_successes[action] for action in LINKED_ACTIONS), stats.stateful_successes
    assert len(app.events) >= summary["total"] - stats.statuses[403]  # every other request reached the handler
    assert summary["seconds"] < BUDGET_SECONDS
