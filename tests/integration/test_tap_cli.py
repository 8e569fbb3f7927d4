"""The ``tap`` command's bad-input paths that need no deployment: each is one clear line on
stderr, a non-zero exit status and no traceback. (Its runs against the deployed local
platform are in test_local_e2e.py.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tap.importer import client_token, parse_line
from workspace.paths import PROJECT

pytestmark = pytest.mark.timeout(120)
BAD_INPUT = 2


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tap(*args: str, env: dict[str, str] | None = None, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``python -m tap`` in a clean environment: no local session, no AWS credentials."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TAP_"))}
    base |= {"TAP_LOCAL_DIR": str(tmp / "no-local"), "AWS_CONFIG_FILE": str(tmp / "none"),
             "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none"), "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "tap", *args], cwd=PROJECT, env=base | (env or {}),
        text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_no_url_anywhere(tmp_path: Path) -> None:
    result = tap("get", "x", tmp=tmp_path)
    assert result.returncode == BAD_INPUT
    assert _one_line(result).startswith("tap: no API URL: pass --url, set TAP_API_URL")


def test_no_key(tmp_path: Path) -> None:
    result = tap("get", "x", env={"TAP_API_URL": "http://127.0.0.1:9/lambda"}, tmp=tmp_path)
    assert result.returncode == BAD_INPUT and _one_line(result).startswith("tap: no API key")


def test_no_aws_credentials_for_a_signed_url(tmp_path: Path) -> None:
    url = "https://abc123.execute-api.us-west-2.amazonaws.com/prod/lambda"
    result = tap("--url", url, "--api-key", "k", "list", tmp=tmp_path)
    assert result.returncode == BAD_INPUT
    assert _one_line(result).startswith("tap: no AWS credentials found: the API needs SigV4-signed requests")


def test_wrong_url_nobody_listening(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/lambda"
    result = tap("--url", url, "--api-key", "k", "list", tmp=tmp_path)
    assert result.returncode == BAD_INPUT
    assert _one_line(result) == f"tap: cannot connect to {url}: connection refused (is the API running at this URL?)"


def test_missing_or_unreadable_import_file(tmp_path: Path) -> None:
    args = ("--url", "http://127.0.0.1:9/lambda", "--api-key", "k", "import")
    missing = tap(*args, str(tmp_path / "nope.jsonl"), tmp=tmp_path)
    assert missing.returncode == BAD_INPUT
    assert _one_line(missing) == f"tap: cannot read {tmp_path / 'nope.jsonl'}: no such file"
    directory = tap(*args, str(tmp_path), tmp=tmp_path)
    assert directory.returncode == BAD_INPUT and _one_line(directory).endswith("not a file")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.jsonl"
        locked.write_text("{}\n")
        locked.chmod(0)
        result = tap(*args, str(locked), tmp=tmp_path)
        assert result.returncode == BAD_INPUT and "Permission denied" in result.stderr


def test_import_of_only_bad_lines_sends_nothing(tmp_path: Path) -> None:
    """Every line is rejected locally, so not even the (closed) port is tried."""
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b'not json\n\n{"prompt": "p"}\n[1, 2]\n\xff\xfe\n{"responses": ["a", "b"]}\n')
    url = f"http://127.0.0.1:{_closed_port()}/lambda"
    result = tap("--url", url, "--api-key", "k", "import", str(source), tmp=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "line 1: not JSON: Expecting value at column 1" in result.stderr
    assert "line 3: missing field: responses" in result.stderr
    assert "line 4: must be a JSON object (a task), got list" in result.stderr
    assert "line 5: not UTF-8 (byte 1)" in result.stderr
    assert "line 6: missing field: prompt" in result.stderr
    assert "created 0 · already there 0 · rejected 5 (of 5 lines)" in result.stderr
    rejects = tmp_path / "bad.jsonl.rejected.jsonl"
    assert rejects.read_text().splitlines()[0] == "not json" and len(rejects.read_text().splitlines()) == 5


def test_export_state_of_another_status_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text("")
    state = tmp_path / "out.jsonl.export-state.json"
    state.write_text(json.dumps({"status": "pending", "next_token": None, "count": 0, "size": 0}))
    result = tap("--url", "http://127.0.0.1:9/lambda", "--api-key", "k", "export", "-o", str(output), tmp=tmp_path)
    assert result.returncode == BAD_INPUT
    assert "belongs to an export of status 'pending'; use --status pending" in _one_line(result)


def test_line_format_and_token() -> None:
    task = parse_line(b'{"responses": ["a", "b"], "prompt": "p", "priority": 3}')
    assert client_token(task) == client_token(parse_line(b'{"prompt":"p","priority":3,"responses":["a","b"]}'))
    assert client_token(task) != client_token(parse_line(b'{"prompt":"p","priority":4,"responses":["a","b"]}'))
    assert client_token(task).startswith("tap-import-") and len(client_token(task)) == 51
    with pytest.raises(ValueError, match="missing fields: prompt, responses"):
        parse_line(b"{}")


def test_a_key_starting_with_a_dash_goes_after_an_equals_sign(tmp_path: Path) -> None:
    """Generated keys may start with "-"; ``--api-key=KEY`` (or TAP_API_KEY) passes them."""
    url = f"http://127.0.0.1:{_closed_port()}/lambda"
    split = tap("--url", url, "--api-key", "-Xk3", "list", tmp=tmp_path)
    assert split.returncode == BAD_INPUT and "argument --api-key: expected one argument" in split.stderr
    joined = tap("--url", url, "--api-key=-Xk3", "list", tmp=tmp_path)
    assert _one_line(joined).startswith(f"tap: cannot connect to {url}")
