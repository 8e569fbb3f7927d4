"""``tap``'s bad input and set-up, in process: each is one line on stderr, the documented
exit status and no traceback; a missing URL or key sends nothing."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tap.importer import client_token, parse_line
from tests.tap.conftest import Run, Served

BAD_INPUT, REFUSED = 2, 1
Tap = Callable[..., Run]


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/lambda"


def test_no_url_outside_a_checkout(tap: Tap) -> None:
    result = tap("get", "x")
    assert result.status == BAD_INPUT
    assert result.line() == (
        "tap: no API URL: pass --url or set TAP_API_URL "
        "(outside a tap-stack checkout there is no --stack ENV or make local session to read)"
    )


def test_no_key_sends_nothing(tap: Tap, served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    before = served.requests
    monkeypatch.setenv("TAP_API_URL", served.url)
    result = tap("list")
    assert result.status == BAD_INPUT and result.line().startswith("tap: no API key: pass --api-key or set TAP_API_KEY")
    assert served.requests == before


def test_no_url_inside_a_checkout_names_the_conveniences(tap: Tap, tmp_path: Path) -> None:
    (tmp_path / "cdktf.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path / "sub")
    result = tap("--api-key", "k", "list")
    assert result.status == BAD_INPUT
    assert result.line() == (
        "tap: no API URL: pass --url or set TAP_API_URL, name a deployed stack with --stack ENV, "
        f"or start make local (no session in {tmp_path / '.local' / 'session.json'})"
    )


def test_running_make_local_is_found_from_the_checkout(tap: Tap, served: Served, tmp_path: Path) -> None:
    (tmp_path / "cdktf.json").write_text("{}")
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "session.json").write_text(json.dumps({"api_url": served.url, "api_key": served.key}))
    (tmp_path / "deep" / "er").mkdir(parents=True)
    os.chdir(tmp_path / "deep" / "er")
    result = tap("list", "--limit", "1")
    assert result.status == 0, result.err
    assert isinstance(result.json()["tasks"], list)


def test_tap_local_dir_moves_the_session(
    tap: Tap, served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As local/paths.py: ``$TAP_LOCAL_DIR/session.json``, in a checkout or not."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "session.json").write_text(json.dumps({"api_url": served.url, "api_key": served.key}))
    monkeypatch.setenv("TAP_LOCAL_DIR", str(tmp_path / "elsewhere"))
    assert tap("list", "--limit", "1").status == 0
    wrong_key = tap("--api-key", "not-a-key", "list")
    assert wrong_key.status == REFUSED and wrong_key.line().startswith("tap: 403 invalid_api_key:")


def test_stack_outside_a_checkout(tap: Tap, tmp_path: Path) -> None:
    result = tap("--stack", "prod", "list")
    assert result.status == BAD_INPUT
    assert result.line() == (
        f"tap: --stack prod works inside a tap-stack checkout (none holds {tmp_path}): "
        "pass --url and --api-key (or set TAP_API_URL and TAP_API_KEY)"
    )


def test_stack_not_synthesized_and_terraform_missing(tap: Tap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cdktf.json").write_text("{}")
    unsynthesized = tap("--stack", "dev", "list")
    assert unsynthesized.status == BAD_INPUT
    assert unsynthesized.line().startswith("tap: stack 'dev' is not synthesized (")
    assert unsynthesized.line().endswith("has no cdk.tf.json): run make synth, or pass --url and --api-key "
                                         "(or set TAP_API_URL and TAP_API_KEY)")  # fmt: skip
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "dev"
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text("{}")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    no_terraform = tap("--stack", "dev", "list")
    assert no_terraform.status == BAD_INPUT
    assert no_terraform.line() == (
        "tap: terraform is not on PATH: --stack needs it to read the stack's outputs; "
        "or pass --url and --api-key (or set TAP_API_URL and TAP_API_KEY)"
    )


def test_no_aws_credentials_for_a_signed_url(tap: Tap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = tap("--url", "https://abc123.execute-api.us-west-2.amazonaws.com/prod/lambda", "--api-key", "k", "list")
    assert result.status == BAD_INPUT
    assert result.line().startswith("tap: no AWS credentials found: the API needs SigV4-signed requests")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/lambda",
        "ftp://abc123.execute-api.us-west-2.amazonaws.com/x",
        "lambda",
        "http://127.0.0.1:99999/lambda",
        "http://127.0.0.1:abc/lambda",
        "http://127.0.0.1:0/lambda",
    ],
)
def test_a_url_that_is_not_http_is_refused_before_anything_else(tap: Tap, url: str) -> None:
    result = tap("--url", url, "--api-key", "k", "list")
    assert result.status == BAD_INPUT
    assert result.line() == f"tap: API URL {url!r} is not an http(s) URL"


def test_wrong_url_nobody_listening(tap: Tap) -> None:
    url = _closed_port_url()
    result = tap("--url", url, "--api-key", "k", "list")
    assert result.status == BAD_INPUT
    assert result.line() == f"tap: cannot connect to {url}: connection refused (is the API running at this URL?)"


@pytest.mark.parametrize(
    ("path", "says"),
    [("/html", "not a JSON object): <html> <body>It works!</body> </html>"),
     ("/json", 'no X-Request-Id header): {"tasks": [], "ok": true}')],
)  # fmt: skip
def test_a_server_that_is_not_the_task_api(tap: Tap, foreign: str, path: str, says: str) -> None:
    result = tap("--url", foreign + path, "--api-key", "k", "list")
    assert result.status == BAD_INPUT
    assert result.line() == f"tap: 200: the URL did not answer like the task API (HTTP 200, {says}"


def test_missing_or_unreadable_import_file(tap: Tap, tmp_path: Path) -> None:
    args = ("--url", "http://127.0.0.1:9/lambda", "--api-key", "k", "import")
    missing = tap(*args, str(tmp_path / "nope.jsonl"))
    assert missing.status == BAD_INPUT
    assert missing.line() == f"tap: cannot read {tmp_path / 'nope.jsonl'}: no such file"
    directory = tap(*args, str(tmp_path))
    assert directory.status == BAD_INPUT and directory.line().endswith("not a file")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.jsonl"
        locked.write_text("{}\n")
        locked.chmod(0)
        result = tap(*args, str(locked))
        assert result.status == BAD_INPUT and "Permission denied" in result.err


def test_import_of_only_bad_lines_sends_nothing(tap: Tap, tmp_path: Path) -> None:
    """Every line is rejected locally, so not even the (closed) port is tried."""
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b'not json\n\n{"prompt": "p"}\n[1, 2]\n\xff\xfe\n{"responses": ["a", "b"]}\n')
    result = tap("--url", _closed_port_url(), "--api-key", "k", "import", str(source))
    assert result.status == REFUSED and "Traceback" not in result.err
    assert "line 1: not JSON: Expecting value at column 1" in result.err
    assert "line 3: missing field: responses" in result.err
    assert "line 4: must be a JSON object (a task), got list" in result.err
    assert "line 5: not UTF-8 (byte 1)" in result.err
    assert "line 6: missing field: prompt" in result.err
    assert "created 0 · already there 0 · rejected 5 (of 5 lines)" in result.err
    rejects = (tmp_path / "bad.jsonl.rejected.jsonl").read_text().splitlines()
    assert rejects[0] == "not json" and len(rejects) == 5


def test_export_state_of_another_status_is_refused(tap: Tap, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text("")
    state = tmp_path / "out.jsonl.export-state.json"
    state.write_text(json.dumps({"status": "pending", "next_token": None, "count": 0, "size": 0}))
    result = tap("--url", "http://127.0.0.1:9/lambda", "--api-key", "k", "export", "-o", str(output))
    assert result.status == BAD_INPUT
    assert "belongs to an export of status 'pending'; use --status pending" in result.line()


def test_line_format_and_token() -> None:
    task = parse_line(b'{"responses": ["a", "b"], "prompt": "p", "priority": 3}')
    assert client_token(task) == client_token(parse_line(b'{"prompt":"p","priority":3,"responses":["a","b"]}'))
    assert client_token(task) != client_token(parse_line(b'{"prompt":"p","priority":4,"responses":["a","b"]}'))
    assert client_token(task).startswith("tap-import-") and len(client_token(task)) == 51
    with pytest.raises(ValueError, match="missing fields: prompt, responses"):
        parse_line(b"{}")


def test_a_key_starting_with_a_dash_goes_after_an_equals_sign(tap: Tap) -> None:
    """Generated keys may start with "-"; ``--api-key=KEY`` (or TAP_API_KEY) passes them."""
    url = _closed_port_url()
    split = tap("--url", url, "--api-key", "-Xk3", "list")
    assert split.status == BAD_INPUT and "argument --api-key: expected one argument" in split.err
    joined = tap("--url", url, "--api-key=-Xk3", "list")
    assert joined.line().startswith(f"tap: cannot connect to {url}")
