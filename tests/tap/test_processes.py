"""``tap`` as a process, where the process is the point: Ctrl-C during an export, and the
installed command (a wheel built from ``tap/`` in a fresh virtual environment outside the
checkout) with its exit statuses."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from testkit.tap import new_run_id, task_lines, write_jsonl
from tests.tap.conftest import ROOT, Run, Served

Tap = Callable[..., Run]
INTERRUPTED, BAD_INPUT = 130, 2


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without tap's variables or a PYTHONPATH into the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "PYTHONPATH"}
    return env | extra


def test_ctrl_c_stops_an_export_that_resumes(served: Served, api: Tap, tmp_path: Path) -> None:
    """SIGINT midway: exit 130 and the resume hint; the same command again completes the
    file, every task once, as a fresh export lists them."""
    source = tmp_path / "tasks.jsonl"
    write_jsonl(source, task_lines(60, new_run_id()))
    assert api("import", str(source)).status == 0
    output, state = tmp_path / "resumed.jsonl", tmp_path / "resumed.jsonl.export-state.json"
    options = ["export", "--status", "pending", "--page-size", "5", "-o", str(output)]
    command = [sys.executable, "-m", "tap", "--url", served.url, f"--api-key={served.key}", *options]
    served.latency = 0.05
    try:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=_clean_env(PYTHONPATH=str(ROOT)), stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if state.is_file() and json.loads(state.read_text() or "{}").get("count", 0) >= 20:
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.01)
        _, stderr = process.communicate(timeout=60)
    finally:
        served.latency = 0.0
    assert process.returncode == INTERRUPTED and "run the same command again to resume" in stderr, stderr
    assert state.is_file()
    resumed = api(*options)
    assert resumed.status == 0 and "resumed after" in resumed.err, resumed.err
    assert not state.exists()
    fresh = tmp_path / "fresh.jsonl"
    assert api("export", "--status", "pending", "-o", str(fresh)).status == 0
    ids = [json.loads(line)["task_id"] for line in output.read_text().splitlines()]
    assert len(ids) == len(set(ids)) >= 60
    assert ids == [json.loads(line)["task_id"] for line in fresh.read_text().splitlines()]


def _wheel(tmp_path: Path) -> Path:
    """``pip wheel`` of a copy of tap/ (the build writes beside its sources)."""
    source = tmp_path / "source"
    source.mkdir()
    for path in [*(ROOT / "tap").glob("*.py"), ROOT / "tap" / "pyproject.toml"]:
        shutil.copy2(path, source)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(tmp_path)],
                   check=True, timeout=300)  # fmt: skip
    (wheel,) = tmp_path.glob("tap_cli-*.whl")
    return wheel


@pytest.mark.slow
def test_the_installed_command(served: Served, foreign: str, tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert sorted(n for n in names if not n.startswith(info)) == sorted(
        f"tap/{p.name}" for p in (ROOT / "tap").glob("*.py")
    )
    assert [line for line in metadata.splitlines() if line.startswith("Requires-Dist")] == [
        "Requires-Dist: botocore>=1.34"
    ]
    assert "tap = tap.cli:main" in entry_points.splitlines()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    str(wheel)], check=True, timeout=600)  # fmt: skip

    def tap(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(venv / "bin" / "tap"), *argv], cwd=tmp_path, env=_clean_env(**env),
                              text=True, capture_output=True, timeout=120, check=False)  # fmt: skip

    def one_line(result: subprocess.CompletedProcess[str]) -> str:
        assert result.returncode == BAD_INPUT and "Traceback" not in result.stderr, result.stderr
        (line,) = result.stderr.strip().splitlines()
        return line

    created = tap("--url", served.url, f"--api-key={served.key}", "create", "--prompt", "installed?",
                  "--response", "yes", "--response", "no")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["task"]["prompt"] == "installed?"

    assert one_line(tap("list")).startswith("tap: no API URL: pass --url or set TAP_API_URL")
    before = served.requests
    assert one_line(tap("list", TAP_API_URL=served.url)).startswith("tap: no API key: pass --api-key")
    assert served.requests == before, "nothing is sent without a key"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/lambda"
    assert one_line(tap("--url", closed, "--api-key", "k", "list")).startswith(f"tap: cannot connect to {closed}")
    not_api = one_line(tap("--url", f"{foreign}/html", "--api-key", "k", "list"))
    assert not_api.startswith("tap: 200: the URL did not answer like the task API (HTTP 200, not a JSON object)")
