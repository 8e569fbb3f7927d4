"""Synthesize with either CDK library (``TAP_CDK``) and compare what they write, for tests and benchmarks.

CDK Terrain needs ``make cdktn-bindings`` (its venv and generated bindings): :func:`missing` says
what is not there, and :func:`require` skips a test for it, or fails it where CI sets
``TAP_REQUIRE_CDKTN=1``. Each synth is ``main.py`` in a fresh process with the main venv's Python, so
``TAP_CDK=cdktn`` also goes through main.py's hand-over to ``.venv-cdktn/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from stacks import cdk
from workspace.paths import PROJECT

#: Set to 1 (CI does) to fail, not skip, the tests that need CDK Terrain when it is not set up.
REQUIRE = "TAP_REQUIRE_CDKTN"
#: The one key of a synthesized stack that names the library's version (``//`` → ``metadata``).
VERSION_STAMP = "version"


def missing() -> str | None:
    """What is not set up for ``TAP_CDK=cdktn`` here, as a line saying what to run; None when all is."""
    library = cdk.selected({**os.environ, cdk.SWITCH: "cdktn"})
    if not (cdk.CDKTN_VENV / "bin" / "python").is_file():
        return "CDK Terrain's venv .venv-cdktn/ is missing: run make cdktn-bindings (Node >= 22.19)"
    if library.ready is None or not library.ready.is_file():
        return f"cdktn's AWS bindings are not generated ({library.ready}): run make cdktn-bindings (Node >= 22.19)"
    return None


def require() -> None:
    """Skip the calling test, saying what to run, when cdktn is not set up; fail it where CI asks
    (``TAP_REQUIRE_CDKTN=1``)."""
    if reason := missing():
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def synth_env(library: str, outdir: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """The environment of a synth with ``library`` into ``outdir``: this one without its TAP_* settings
    (but where the cdktn bindings are cached), plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "CDKTF_OUTDIR"}
    keep = {k: v for k, v in os.environ.items() if k in (cdk.CACHE_SWITCH, REQUIRE)}
    return {**env, **keep, **settings, cdk.SWITCH: library, "CDKTF_OUTDIR": str(outdir)}


def synthesize(library: str, outdir: Path, settings: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``python main.py`` with ``TAP_CDK=library`` and ``settings`` into ``outdir``; the caller checks the result."""
    return subprocess.run(
        [sys.executable, str(PROJECT / "main.py")],
        cwd=PROJECT, env=synth_env(library, outdir, settings), capture_output=True, text=True, timeout=900,
        check=False,
    )  # fmt: skip


def stack_text(outdir: Path, env: str) -> str:
    return (outdir / "stacks" / env / "cdk.tf.json").read_text(encoding="utf-8")


def qualified_source(source: str) -> str:
    """A provider source address as Terraform reads it: a bare type (``aws``) is ``hashicorp/aws``."""
    return source if "/" in source else f"hashicorp/{source}"


def comparable(stack: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The parsed stack without its library version (returned beside it) and with each provider
    source written as Terraform reads it (cdktf's prebuilt bindings write ``aws``, cdktn's
    generated ones ``hashicorp/aws``)."""
    copy = json.loads(json.dumps(stack))
    version: str = copy["//"]["metadata"].pop(VERSION_STAMP)
    for requirement in copy.get("terraform", {}).get("required_providers", {}).values():
        requirement["source"] = qualified_source(requirement["source"])
    return copy, version


def run_python(code: str, settings: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with the Python of ``.venv-cdktn/`` in the project, with ``settings``."""
    env = synth_env(settings.get(cdk.SWITCH, "cdktn"), PROJECT / "cdktf.out", settings)
    return subprocess.run(
        [str(cdk.CDKTN_VENV / "bin" / "python"), "-c", code],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def library_version(outdir: Path, env: str) -> str:
    """The CDK library version stamped into a synthesized stack (which library wrote it)."""
    return comparable(json.loads(stack_text(outdir, env)))[1]
