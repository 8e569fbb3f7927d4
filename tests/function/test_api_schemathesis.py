"""Schemathesis against the real handler and moto, in process: docs/openapi.yaml
drives every phase (examples, coverage, fuzzing, stateful links) with positive
and negative data and every check; settings and the one suppression are in
tests/function/schemathesis.toml. The run must end with zero failures."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any
from pathlib import Path

import pytest
import schemathesis
import werkzeug
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.python import wsgi as schemathesis_wsgi

from apigw_wsgi import SPEC_PATH, ApiGatewayProxy
from handler_support import API_KEY, Aws, lambda_function

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
BUDGET_SECONDS = 180
# Socket-level settings the engine passes with every call. The in-process WSGI
# transport of schemathesis 4.32.5 drops them for its own calls but not for the
# probes some checks send (e.g. ignored_auth), and werkzeug rejects them.
_SOCKET_SETTINGS = ("max_redirects", "verify", "cert", "proxies")


class _InProcessClient(werkzeug.Client):
    def open(self, *args: Any, **kwargs: Any) -> Any:
        for name in _SOCKET_SETTINGS:
            kwargs.pop(name, None)
        return super().open(*args, **kwargs)


@pytest.fixture
def wsgi_transport_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemathesis_wsgi, "get_client", _InProcessClient)


@pytest.mark.usefixtures("wsgi_transport_fix")
def test_schemathesis_finds_no_failure(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAP_CONTRACT_API_KEY", API_KEY)
    app = ApiGatewayProxy(lambda_function.lambda_handler, ROOT / "docs" / "openapi.yaml")
    schema = schemathesis.openapi.from_wsgi(SPEC_PATH, app, config=SchemathesisConfig.from_path(CONFIG))
    started = time.perf_counter()
    failures: list[str] = []
    requests: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    linked: Counter[str] = Counter()  # successful stateful steps per action
    errors: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            requests[str(event.phase)] += len(event.recorder.interactions)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
                    if str(event.phase) == "stateful" and interaction.response.status_code < 300:
                        linked[_action(interaction.request.body)] += 1
            for checks in event.recorder.checks.values():
                failures += [f"{c.name}: {c.failure_info}" for c in checks if c.status == Status.FAILURE]
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", None)))
    elapsed = time.perf_counter() - started
    capsys.readouterr()  # the handler's request lines
    summary = {"requests": dict(requests), "total": sum(requests.values()), "statuses": dict(sorted(statuses.items())),
               "seconds": round(elapsed, 1), "stateful_successes": dict(linked), "handler_events": len(app.events)}  # fmt: skip
    print("schemathesis:", json.dumps(summary))  # noqa: T201 - the numbers docs/benchmarks.md quotes
    if os.environ.get("TAP_CONTRACT_REPORT"):
        Path(os.environ["TAP_CONTRACT_REPORT"]).write_text(json.dumps(summary, indent=2) + "\n")
    assert not errors, errors
    assert not failures, "\n".join(sorted(set(failures))[:20])
    assert {"examples", "coverage", "fuzzing", "stateful"} <= set(requests), requests
    assert statuses[201] and statuses[200] and statuses[400] and statuses[405], statuses
    # The links of docs/openapi.yaml were followed: create -> get / claim -> submit / release.
    assert all(
        linked[action] for action in ("create_task", "get_task", "claim_task", "submit_feedback", "release_task")
    ), linked
    assert elapsed < BUDGET_SECONDS


def _action(body: bytes | str | None) -> str:
    try:
        return str(json.loads(body or b"{}").get("action"))
    except (ValueError, AttributeError):
        return "(not a JSON object)"
