"""TAP_CDK: an explicit choice of library, refused in one line when unknown or not set up.

main.py checks the choice before any CDK library loads: exit status 2, one line naming what to
run, nothing written. cdktn's environment pins what the Lambda zip copies to Pipfile.lock's
versions, so both libraries package the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stacks import cdk, synth_inputs
from stacks.errors import ConfigError
from stacks.package import RUNTIME_LIBRARIES
from tests.unit.helpers import imported_modules
from workspace.paths import PROJECT


def _main(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_")}
    env.update(TAP_BACKEND="local", CDKTF_OUTDIR=str(tmp_path / "out"), **settings)
    return subprocess.run(
        [sys.executable, "-X", "importtime", "main.py"], cwd=PROJECT, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("import time:")]


def test_the_default_and_the_two_choices() -> None:
    assert cdk.selected({}).name == "cdktf" == cdk.selected({cdk.SWITCH: " "}).name
    cdktf, cdktn = cdk.selected({cdk.SWITCH: "cdktf"}), cdk.selected({cdk.SWITCH: "cdktn"})
    assert (cdktf.core, cdktf.bindings, cdktf.generated) == ("cdktf", "cdktf_cdktf_provider_aws", None)
    assert (cdktn.core, cdktn.bindings) == ("cdktn", "imports.aws")
    assert cdktn.generated == PROJECT / ".gen" / "cdktn" / f"aws-{cdk.AWS_PROVIDER_VERSION}"
    moved = cdk.selected({cdk.SWITCH: "cdktn", cdk.CACHE_SWITCH: "/var/cache/tap"})
    assert moved.ready == Path("/var/cache/tap") / f"aws-{cdk.AWS_PROVIDER_VERSION}" / "READY"


def test_an_unknown_library_is_refused_before_anything_loads(tmp_path: Path) -> None:
    result = _main(tmp_path, TAP_CDK="terraform")
    assert result.returncode == 2
    assert _lines(result) == [
        "tap-stack: config error: TAP_CDK='terraform' is unknown: set TAP_CDK=cdktf (CDK for Terraform, "
        "the default) or TAP_CDK=cdktn (CDK Terrain)"
    ]
    assert not {"cdktf", "cdktn", "jsii"} & imported_modules(result.stderr)
    assert not (tmp_path / "out").exists()


def test_cdktn_without_its_bindings_is_refused_naming_what_to_run(tmp_path: Path) -> None:
    """With .venv-cdktn/ here main.py hands over to it and finds no bindings; without, no library."""
    result = _main(tmp_path, TAP_CDK="cdktn", TAP_CDKTN_CACHE=str(tmp_path / "empty-cache"))
    assert result.returncode == 2
    ready = tmp_path / "empty-cache" / f"aws-{cdk.AWS_PROVIDER_VERSION}" / "READY"
    if (cdk.CDKTN_VENV / "bin" / "python").is_file():
        expected = (
            f"tap-stack: config error: TAP_CDK=cdktn: the AWS {cdk.AWS_PROVIDER_VERSION} bindings are not "
            f"generated (no {ready}): run make cdktn-bindings (Node >= 22.19)"
        )
    else:
        expected = (
            f"tap-stack: config error: TAP_CDK=cdktn: the cdktn library is not installed in {sys.executable}: "
            "run make cdktn-install"
        )
    assert _lines(result) == [expected]
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def test_cdktn_chosen_in_a_python_without_it_names_its_install() -> None:
    with pytest.raises(ConfigError) as refused:
        cdk.selected({cdk.SWITCH: "cdktn"}).check()
    assert str(refused.value) == (
        f"TAP_CDK=cdktn: the cdktn library is not installed in {sys.executable}: run make cdktn-install"
    )


def test_the_synth_fingerprint_follows_the_library_and_its_bindings(tmp_path: Path) -> None:
    ready = tmp_path / f"aws-{cdk.AWS_PROVIDER_VERSION}" / "READY"
    ready.parent.mkdir()
    ready.write_text(json.dumps({"generated": "2026-12-07T11:44:48Z"}))
    cdktn_env = {cdk.SWITCH: "cdktn", cdk.CACHE_SWITCH: str(tmp_path)}
    first = synth_inputs.fingerprint(PROJECT, cdktn_env)
    assert first != synth_inputs.fingerprint(PROJECT, {})
    ready.write_text(json.dumps({"generated": "2026-12-08T09:00:00Z"}))
    assert synth_inputs.fingerprint(PROJECT, cdktn_env) != first


def _pins(text: str) -> dict[str, str]:
    return {name.lower(): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_cdktn_packages_the_lambda_libraries_at_the_versions_pipfile_lock_pins() -> None:
    lock = json.loads((PROJECT / "Pipfile.lock").read_text())["default"]
    cdktn_pins = _pins((PROJECT / "terrain" / "requirements.txt").read_text())
    for library in RUNTIME_LIBRARIES:
        assert cdktn_pins[library] == lock[library]["version"].lstrip("="), library
    assert cdktn_pins["cdktn"] == "0.24.0"
