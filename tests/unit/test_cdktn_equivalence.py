"""CDK Terrain synthesizes what CDKTF does: every environment, the same JSON, the same Lambda zips.

One ``main.py`` run per library (``TAP_CDK=cdktf``, ``TAP_CDK=cdktn``; the latter hands itself
over to ``.venv-cdktn/``), every environment with the settings a deployment uses. The parsed
stacks are equal once the library's version stamp is set aside and the AWS provider's source is
read as Terraform reads it: cdktf's prebuilt bindings write ``"source": "aws"``, cdktn's
generated ones ``"hashicorp/aws"``, one provider for Terraform (``terraform init`` locks the same
``registry.terraform.io/hashicorp/aws`` 5.100.0 for both). Besides those two lines the text differs
only in layout: cdktf writes an empty list over two lines (``[`` and ``]``), cdktn as ``[]``.
Skipped, saying what to run, where CDK Terrain is not set up (``make cdktn-bindings``, Node >=
22.19); CI sets ``TAP_REQUIRE_CDKTN=1``, which fails them instead.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from stacks import lazy_provider
from testkit import cdktn
from tests.conftest import TEST_ALARM_EMAIL, TEST_STATE_BUCKET
from workspace.terraform import run_terraform

pytestmark = pytest.mark.slow

ENVIRONMENTS = ("prod", "dev", "local")
#: prod and dev as they deploy (S3 state, prod with an alarm destination), local on its emulator.
SETTINGS = {
    "TAP_ENVIRONMENTS": ",".join(ENVIRONMENTS),
    "TAP_BACKEND": "s3",
    "TAP_STATE_BUCKET": TEST_STATE_BUCKET,
    "TAP_ALARM_EMAILS": TEST_ALARM_EMAIL,
}
#: The lines of the two texts that differ beyond layout: the version stamp, the provider's source.
_STAMP_OR_SOURCE = re.compile(rf'^\s*"({cdktn.VERSION_STAMP}|source)": "[^"]+",?$')
#: An empty list as cdktn writes it, and the two lines cdktf writes it over.
_EMPTY_LIST = re.compile(r'^\s*"[^"]+": \[\],?$'), re.compile(r'^\s*"[^"]+": \[$'), re.compile(r"^\s*\],?$")


@pytest.fixture(scope="module")
def synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    cdktn.require()
    outdirs = {}
    for library in ("cdktf", "cdktn"):
        outdir = tmp_path_factory.mktemp(library)
        result = cdktn.synthesize(library, outdir, SETTINGS)
        assert result.returncode == 0, result.stderr[-3000:]
        outdirs[library] = outdir
    return outdirs


def _parsed(synths: dict[str, Path], library: str, env: str) -> dict[str, Any]:
    stack: dict[str, Any] = json.loads(cdktn.stack_text(synths[library], env))
    return stack


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_stacks_parse_to_the_same_json_but_for_the_version_stamp(synths: dict[str, Path], env: str) -> None:
    cdktf_stack, cdktf_version = cdktn.comparable(_parsed(synths, "cdktf", env))
    cdktn_stack, cdktn_version = cdktn.comparable(_parsed(synths, "cdktn", env))
    assert (cdktf_version, cdktn_version) == ("0.21.0", "0.24.0"), "each synth ran its own library"
    assert len(cdktn_stack["resource"]) > 30
    assert cdktn_stack == cdktf_stack
    sources = [_parsed(synths, lib, env)["terraform"]["required_providers"]["aws"]["source"] for lib in synths]
    assert sources == ["aws", "hashicorp/aws"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_text_differs_only_in_the_stamp_the_source_and_the_layout_of_empty_lists(
    synths: dict[str, Path], env: str
) -> None:
    before = cdktn.stack_text(synths["cdktf"], env).splitlines()
    after = cdktn.stack_text(synths["cdktn"], env).splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-"]
    removed = [line[1:] for line in changed[2:] if line.startswith("-")]
    added = [line[1:] for line in changed[2:] if line.startswith("+")]
    assert [line.strip() for line in removed if _STAMP_OR_SOURCE.match(line)] == [
        '"version": "0.21.0"',
        '"source": "aws",',
    ]
    assert [line.strip() for line in added if _STAMP_OR_SOURCE.match(line)] == [
        '"version": "0.24.0"',
        '"source": "hashicorp/aws",',
    ]
    collapsed, opened, closing = _EMPTY_LIST
    layout_removed = [line for line in removed if not _STAMP_OR_SOURCE.match(line)]
    layout_added = [line for line in added if not _STAMP_OR_SOURCE.match(line)]
    assert layout_added and all(collapsed.match(line) for line in layout_added)
    # Each "key": [] of cdktn's is "key": [ and ] in cdktf's text, and nothing else differs.
    assert [line.strip() for line in layout_removed if opened.match(line)] == [
        line.strip().rstrip(",").replace("[]", "[") for line in layout_added
    ]
    assert all(opened.match(line) or closing.match(line) for line in layout_removed)
    assert len(layout_removed) == 2 * len(layout_added)


@pytest.mark.terraform
def test_terraform_locks_the_same_provider_for_both(synths: dict[str, Path], tmp_path: Path) -> None:
    locks = []
    for library, outdir in synths.items():
        folder = tmp_path / library
        shutil.copytree(outdir / "stacks" / "dev", folder)
        init = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], folder, timeout=600)
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr
        locks.append((folder / ".terraform.lock.hcl").read_text())
    assert 'provider "registry.terraform.io/hashicorp/aws" {\n  version     = "5.100.0"' in locks[0]
    assert locks[0] == locks[1]


def test_both_libraries_build_the_same_lambda_packages(synths: dict[str, Path]) -> None:
    def assets(outdir: Path) -> dict[str, bytes]:
        return {p.relative_to(outdir).as_posix(): p.read_bytes() for p in sorted(outdir.rglob("*.zip"))}

    cdktf_assets, cdktn_assets = assets(synths["cdktf"]), assets(synths["cdktn"])
    assert len(cdktf_assets) == 2 * len(ENVIRONMENTS)
    assert cdktn_assets == cdktf_assets


def test_the_generated_bindings_load_on_demand_under_cdktn() -> None:
    """The on-demand loading, in the cdktn venv: the generated package has the expected layout."""
    cdktn.require()
    probe = (
        "from stacks import cdk, lazy_provider; from testkit.provider import loaded_resource_modules;"
        "aws = cdk.bindings; aws.vpc.Vpc; aws.provider.AwsProvider;"
        f"print(getattr(aws, {lazy_provider.MARKER!r}), len(aws.__all__), sorted(loaded_resource_modules()))"
    )
    result = cdktn.run_python(probe, {"TAP_CDK": "cdktn"})
    assert result.returncode == 0, result.stderr[-2000:]
    marker, count, loaded = result.stdout.split(" ", 2)
    assert marker == "True" and int(count) > 2000
    assert loaded.strip() == "['provider', 'provider_functions', 'vpc']"
