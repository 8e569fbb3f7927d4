"""What the operator commands share and their own tests do not reach: the ``local`` stack's
emulator by default and ``--endpoint`` over ``TAP_EMULATOR_ENDPOINT``, and AWS out of reach
said in one line with exit status 2 (against a port nothing listens on)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError

from workspace.operator_cli import deployed, refuse, stack_parser


def _flags(*argv: str) -> argparse.Namespace:
    return stack_parser("test", "", ("prod", "dev", "local"), "the table").parse_args(argv)


def test_the_local_stack_reads_its_emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TAP_EMULATOR_ENDPOINT", raising=False)
    assert deployed(_flags("--env", "local")).endpoint == "http://127.0.0.1:4566"
    monkeypatch.setenv("TAP_EMULATOR_ENDPOINT", "http://127.0.0.1:4600")
    assert deployed(_flags("--env", "local")).endpoint == "http://127.0.0.1:4600"
    given = deployed(_flags("--env", "local", "--endpoint", "http://127.0.0.1:4700/", "--stack-dir", str(tmp_path)))
    assert (given.endpoint, given.directory) == ("http://127.0.0.1:4700", tmp_path)
    assert deployed(_flags("--env", "dev")).endpoint is None


def test_aws_out_of_reach_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stack = deployed(_flags("--env", "local", "--endpoint", "http://127.0.0.1:1", "--stack-dir", str(tmp_path)))
    with pytest.raises(BotoCoreError) as caught:
        stack.client("dynamodb").list_tables()
    assert refuse("backfill", caught.value) == 2
    err = capsys.readouterr().err
    assert err.startswith("backfill: AWS out of reach: Could not connect to the endpoint URL") and err.count("\n") == 1
