"""The local platform deployed once per test session with ``make local``'s code path, for
every test that needs it (tests/integration/conftest.py's ``deployment`` fixture).

``python -m local.up`` runs in a subprocess on free loopback ports with its own
``TAP_LOCAL_DIR``, so a developer's running ``make local`` is left alone. When the session
ends, the fixture tears the deployment down the documented way (Ctrl-C, then ``python -m
local.down``) and checks that nothing is left; a failed check there fails the run as an
error at teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from local import deploy
from local.paths import LocalPaths
from local.session import Session, SessionError
from testkit.terraform import state_list
from workspace.clients import client
from workspace.paths import PROJECT
from workspace.processes import port_bindable

DEPLOY_SECONDS = 780
#: Fewer resources in the state than this after an apply means the deploy fell short.
MIN_DEPLOYED_RESOURCES = 30


def _pids_in(paths: LocalPaths) -> list[int]:
    """Live processes started with ``TAP_LOCAL_DIR`` pointing at the test's local dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if f"TAP_LOCAL_DIR={paths.root}".encode() in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


class Deployment:
    """``python -m local.up`` in a subprocess, and what it recorded."""

    def __init__(self, paths: LocalPaths, env: dict[str, str], emulator_port: int, api_port: int) -> None:
        self.paths = paths
        self.env = env
        self.emulator_port = emulator_port
        self.api_port = api_port
        self.process: subprocess.Popen[bytes] | None = None
        self.output = paths.root.parent / "up.out"
        self.torn_down = False
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        assert self._session is not None, "the deployment has not started"
        return self._session

    def client(self, service: str) -> Any:
        return client(service, self.session.endpoint)

    def start(self) -> None:
        self.paths.root.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "local.up", "--port", str(self.emulator_port)]
        command += ["--api-port", str(self.api_port), "--quiet"]
        with open(self.output, "wb") as out:
            process = subprocess.Popen(
                command, cwd=PROJECT, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        self.process = process
        deadline = time.monotonic() + DEPLOY_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"make local (python -m local.up) exited with {process.returncode}:\n{self.log()}")
            if self.paths.session.is_file() and not port_bindable(self.api_port):
                try:
                    self._session = Session.from_json(json.loads(self.paths.session.read_text()))
                except SessionError as exc:
                    pytest.fail(f"{self.paths.session} is not a valid session: {exc}")
                return
            time.sleep(1)
        pytest.fail(f"the local platform was not serving after {DEPLOY_SECONDS} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.output.read_text()[-6000:]
        except OSError:
            return "(no output)"

    def stop_api(self) -> int | None:
        """Ctrl-C, as in the terminal: SIGINT to the server process."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def down(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "local.down", *extra],
            cwd=PROJECT,
            env=self.env,
            text=True,
            capture_output=True,
            timeout=600,
            check=False,
        )

    def tear_down_and_check(self) -> None:
        """What a developer does at the end: Ctrl-C, then make local-down; nothing may be left."""
        assert self.stop_api() == 0, self.log()
        assert port_bindable(self.api_port), "Ctrl-C must stop the API server"
        assert "API server stopped" in self.log()
        # Ctrl-C leaves the emulator and the stack running for the next make local.
        assert len(state_list(self.paths.stack_dir)) > MIN_DEPLOYED_RESOURCES
        assert not port_bindable(self.emulator_port), "Ctrl-C must leave the emulator running"

        # What make local-down does, first the destroy alone so the emptied state can be read.
        summary = deploy.terraform(self.paths, "destroy")
        assert summary.startswith("Destroy complete!"), summary
        assert state_list(self.paths.stack_dir) == []

        result = self.down()
        self.torn_down = True
        assert result.returncode == 0, result.stdout + result.stderr
        assert "[4/4] removing local files" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
        assert port_bindable(self.emulator_port), "the emulator port is still taken"
        assert _pids_in(self.paths) == [], "a process of the local platform is still running"
        assert not self.paths.root.exists(), sorted(str(p) for p in self.paths.root.rglob("*"))
        assert not (self.paths.stack_dir / ".terraform").exists()

    def cleanup(self) -> None:
        """Whatever happened, leave no process behind."""
        self.stop_api()
        if not self.torn_down:
            self.down("--force")
        for pid in _pids_in(self.paths):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
