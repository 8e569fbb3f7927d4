"""The Lambda package is a pure function of the source text in function/."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stacks import package
from stacks.package import LambdaPackage, build_lambda_package

ROOT = Path(__file__).resolve().parents[2]


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first = build_lambda_package(ROOT / "function", tmp_path / "a" / "function.zip")
    second = build_lambda_package(ROOT / "function", tmp_path / "b" / "function.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256_b64 == second.sha256_b64


def test_caches_timestamps_and_modes_do_not_matter(tmp_path: Path) -> None:
    source = tmp_path / "function"
    shutil.copytree(ROOT / "function", source, ignore=shutil.ignore_patterns("__pycache__"))
    clean = build_lambda_package(source, tmp_path / "clean.zip")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "lambda_function.cpython-311.pyc").write_bytes(b"\x00cache")
    (source / "stale.pyc").write_bytes(b"\x00")
    for file in source.glob("*.py"):
        file.chmod(0o600)
        file.touch()
    dirty = build_lambda_package(source, tmp_path / "dirty.zip")
    assert dirty.path.read_bytes() == clean.path.read_bytes()
    names = zipfile.ZipFile(dirty.path).namelist()
    assert "lambda_function.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_a_code_change_changes_the_hash(tmp_path: Path) -> None:
    source = tmp_path / "function"
    shutil.copytree(ROOT / "function", source, ignore=shutil.ignore_patterns("__pycache__"))
    before = build_lambda_package(source, tmp_path / "before.zip")
    with (source / "handler.py").open("a") as handle:
        handle.write("\n# changed\n")
    after = build_lambda_package(source, tmp_path / "after.zip")
    assert before.sha256_b64 != after.sha256_b64


def test_missing_handler_is_a_clear_error(tmp_path: Path) -> None:
    try:
        build_lambda_package(tmp_path, tmp_path / "out.zip")
    except FileNotFoundError as error:
        assert "is not the handler package (no __init__.py)" in str(error)
    else:
        raise AssertionError("an empty folder was packaged")


def test_stack_deploys_the_built_package(prod_stack: dict[str, Any], lambda_package: LambdaPackage) -> None:
    function = prod_stack["resource"]["aws_lambda_function"]["main"]
    assert function["source_code_hash"] == lambda_package.sha256_b64
    assert function["filename"].startswith("assets/lambda_package/")
    assert function["filename"].endswith("/function.zip")


def test_a_synth_in_a_fresh_process_agrees_with_this_session(
    tmp_path: Path, dev_stack: dict[str, Any], lambda_package: LambdaPackage
) -> None:
    """main.py run from scratch writes the same zip bytes and source_code_hash as this session's synth."""
    script = (
        "import main, pathlib;"
        f"out = pathlib.Path({str(tmp_path)!r});"
        "main.PACKAGE_PATH = out / 'build' / 'function.zip';"
        "main.synthesize([main.load_config('dev', {'TAP_BACKEND': 'local'})], outdir=str(out / 'cdktf.out'))"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, timeout=300)
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "dev"
    function = json.loads((stack_dir / "cdk.tf.json").read_text())["resource"]["aws_lambda_function"]["main"]
    assert function["source_code_hash"] == dev_stack["resource"]["aws_lambda_function"]["main"]["source_code_hash"]
    assert function["filename"] == dev_stack["resource"]["aws_lambda_function"]["main"]["filename"]
    assert (stack_dir / function["filename"]).read_bytes() == lambda_package.path.read_bytes()


def test_the_zip_holds_the_package_its_entry_and_its_libraries(lambda_package: LambdaPackage) -> None:
    names = zipfile.ZipFile(lambda_package.path).namelist()
    assert names == sorted(names)
    assert {f"function/{p.name}" for p in (ROOT / "function").glob("*.py")} <= set(names)
    assert zipfile.ZipFile(lambda_package.path).read("lambda_function.py").decode() == package.ENTRY_SOURCE
    tops = {name.split("/")[0] for name in names}
    assert {"aws_lambda_powertools", "typing_extensions.py"} <= tops
    assert not {"jmespath", "botocore", "boto3", "tests", "stacks"} & tops


def test_every_requirement_of_the_libraries_ships_or_comes_with_the_runtime() -> None:
    """What Powertools requires (extras aside) is in the zip, or is botocore's own dependency."""
    runtime = {"botocore", "jmespath", "urllib3", "python-dateutil", "six"}
    shipped = {name.lower() for name in package.RUNTIME_LIBRARIES}
    for library in package.RUNTIME_LIBRARIES:
        for requirement in importlib.metadata.requires(library) or []:
            if "extra ==" in requirement:
                continue
            name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            assert name in shipped | runtime, f"{library} needs {name}, which neither ships nor comes with Lambda"


def test_a_library_file_that_differs_from_its_wheel_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "fakelib").mkdir(parents=True)
    (site / "fakelib" / "__init__.py").write_text("edited = True\n")
    info = site / "fakelib-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakelib\nVersion: 1.0\n")
    wheel_digest = base64.urlsafe_b64encode(hashlib.sha256(b"edited = False\n").digest()).rstrip(b"=").decode()
    (info / "RECORD").write_text(f"fakelib/__init__.py,sha256={wheel_digest},15\nfakelib-1.0.dist-info/METADATA,,\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(package, "RUNTIME_LIBRARIES", ("fakelib",))
    with pytest.raises(ValueError, match=r"fakelib/__init__.py differs from the fakelib 1.0 wheel"):
        build_lambda_package(ROOT / "function", tmp_path / "out.zip")
