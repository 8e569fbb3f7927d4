"""On-demand provider loading changes nothing that is synthesized, and unchanged inputs skip a synth.

The fresh-process tests are marked ``slow``: each starts at least one synth of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stacks import cdk, lazy_provider, synth_inputs
from testkit.provider import loaded_resource_modules
from tests.unit.helpers import imported_modules
from workspace.paths import PROJECT

#: Synthesizes every environment with main.py, then reports how many resource modules it loaded.
SYNTH_AND_COUNT = (
    "import sys, main; from testkit.provider import loaded_resource_modules; code = main.main([]);"
    "print(len(loaded_resource_modules()), file=sys.stderr); sys.exit(code)"
)


def _clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "CDKTF_OUTDIR"}
    env.update(settings)
    return env


def _synth(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A synth in a fresh Python process that must succeed."""
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != synth_inputs.STAMP
    }


@pytest.mark.slow
def test_on_demand_and_eager_import_synthesize_the_same_bytes(tmp_path: Path) -> None:
    counts: dict[str, int] = {}
    for mode, switch in (("eager", "1"), ("on_demand", "0")):
        env = _clean_env(TAP_BACKEND="local", CDKTF_OUTDIR=str(tmp_path / mode), TAP_EAGER_PROVIDER_IMPORT=switch)
        result = _synth(["-c", SYNTH_AND_COUNT], PROJECT, env)
        counts[mode] = int(result.stderr.strip().splitlines()[-1])
    # The eager path really imported every resource module; the other only what the stack uses.
    assert counts["eager"] > 2000
    assert counts["on_demand"] < 60
    eager, on_demand = _tree(tmp_path / "eager"), _tree(tmp_path / "on_demand")
    assert {"stacks/prod/cdk.tf.json", "stacks/dev/cdk.tf.json", "stacks/local/cdk.tf.json"} <= set(eager)
    assert sorted(eager) == sorted(on_demand)
    differing = [name for name in eager if eager[name] != on_demand[name]]
    assert differing == []


#: The bindings package stacks/cdk.py names for the default library.
PACKAGE = cdk.selected({}).bindings


@pytest.mark.parametrize(
    ("init_source", "with_assembly", "reason"),
    [
        ("from . import vpc\nMARK = 'eager'\n", True, "defines MARK"),
        ("from . import vpc\n__all__ = ['vpc']\n", False, "has no _jsii assembly module"),
        ("import os\n", True, "imports os"),
        ("from . import vpc\n", True, "lists no submodules in __all__"),
        ("__all__ = ['vpc', 'subnet']\nfrom . import vpc\n", True, "imports other submodules than its __all__ lists"),
        ("__all__ = 'vpc'\n", True, "defines __all__ as something else than a list"),
    ],
)
def test_an_unexpected_package_layout_falls_back_to_the_normal_import(
    tmp_path: Path, init_source: str, with_assembly: bool, reason: str
) -> None:
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text(init_source)
    (package / "vpc.py").write_text("")
    (package / "subnet.py").write_text("")
    if with_assembly:
        (package / "_jsii").mkdir()
        (package / "_jsii" / "__init__.py").write_text("")
    env = _clean_env(PYTHONPATH=os.pathsep.join([str(tmp_path), str(PROJECT)]))
    probe = f"from stacks.cdk import bindings; print(bindings.__file__, hasattr(bindings, {lazy_provider.MARKER!r}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # The package's own __init__ ran (the normal import), not the on-demand one.
    assert result.stdout.split() == [str(package / "__init__.py"), "False"]
    assert result.stderr.strip().splitlines() == [
        f"tap-stack: warning: {PACKAGE} {reason}; importing it the normal (slow) way"
    ]


def test_the_installed_bindings_have_the_expected_layout_and_are_loaded_on_demand(
    synthesized: dict[str, object],
) -> None:
    if os.environ.get(lazy_provider.EAGER_SWITCH) == "1":
        pytest.skip(f"{lazy_provider.EAGER_SWITCH}=1: this session imports the bindings eagerly on purpose")
    package = sys.modules[PACKAGE]
    folder = Path(next(iter(package.__path__)))
    submodules = lazy_provider.submodules((folder / "__init__.py").read_text())
    assert len(submodules) == len(set(submodules)) > 2000
    assert {"vpc", "provider", "dynamodb_table", "lambda_function"} <= set(submodules)
    # This session synthesized every stack, yet loaded only the modules those stacks use.
    assert getattr(package, lazy_provider.MARKER) is True
    assert lazy_provider.load(PACKAGE) is package
    loaded = loaded_resource_modules()
    assert "vpc" in loaded
    assert len(loaded) < 60


def _source_tree(root: Path) -> Path:
    for folder in synth_inputs.SOURCE_DIRS:
        shutil.copytree(PROJECT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in synth_inputs.SOURCE_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, root / name)
    return root


def test_the_fingerprint_follows_content_and_settings_not_timestamps(tmp_path: Path) -> None:
    root = _source_tree(tmp_path)
    environ = {"TAP_BACKEND": "local", "HOME": "/somewhere"}
    base = synth_inputs.fingerprint(root, environ)
    handler = root / "function" / "handler.py"

    os.utime(handler, (time.time() + 60, time.time() + 60))
    (root / "stacks" / "__pycache__").mkdir(exist_ok=True)
    (root / "stacks" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert synth_inputs.fingerprint(root, {**environ, "HOME": "/elsewhere"}) == base

    assert synth_inputs.fingerprint(root, {**environ, "TAP_LAMBDA_IN_VPC": "false"}) != base
    assert synth_inputs.fingerprint(root, {**environ, "CDKTF_OUTDIR": "/tmp/out"}) != base
    for changed in (handler, root / "stacks" / "network.py", root / "main.py", root / "Pipfile.lock"):
        original = changed.read_bytes()
        changed.write_bytes(original + b"\n")
        assert synth_inputs.fingerprint(root, environ) != base, changed.name
        changed.write_bytes(original)
    assert synth_inputs.fingerprint(root, environ) == base
    (root / "stacks" / "extra.py").write_text("")
    assert synth_inputs.fingerprint(root, environ) != base


def _synth_if_changed(root: Path, **settings: str) -> tuple[str, set[str]]:
    """What ``main.py --if-changed`` printed, and the top-level modules it imported."""
    env = _clean_env(TAP_ENVIRONMENTS="dev", TAP_BACKEND="local", CDKTF_OUTDIR=str(root / "out"), **settings)
    result = _synth(["-X", "importtime", "main.py", "--if-changed"], root, env)
    return result.stdout, imported_modules(result.stderr)


@pytest.mark.slow
def test_if_changed_skips_an_unchanged_synth_and_redoes_a_changed_one(tmp_path: Path) -> None:
    root = _source_tree(tmp_path / "project")
    stack_file = root / "out" / "stacks" / "dev" / "cdk.tf.json"

    def lambda_hash() -> str:
        return str(json.loads(stack_file.read_text())["resource"]["aws_lambda_function"]["main"]["source_code_hash"])

    output, _ = _synth_if_changed(root)
    assert "up to date" not in output
    first_hash, first_mtime = lambda_hash(), stack_file.stat().st_mtime_ns

    output, imported = _synth_if_changed(root)
    assert "up to date" in output
    assert stack_file.stat().st_mtime_ns == first_mtime
    library = cdk.selected({})
    assert not {library.core, "jsii", library.bindings.split(".")[0]} & imported, "a no-op must not load CDKTF"

    handler = root / "function" / "handler.py"
    os.utime(handler, (time.time() + 60, time.time() + 60))
    assert "up to date" in _synth_if_changed(root)[0], "a new timestamp alone is no change"

    handler.write_text(handler.read_text() + "\n# changed\n")
    assert "up to date" not in _synth_if_changed(root)[0]
    assert lambda_hash() != first_hash, "the changed function must be packaged again"

    assert "up to date" not in _synth_if_changed(root, TAP_LAMBDA_IN_VPC="false")[0]
    assert "vpc_config" not in json.loads(stack_file.read_text())["resource"]["aws_lambda_function"]["main"]
