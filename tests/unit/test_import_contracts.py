"""The import contracts in pyproject.toml hold for the tree, and each one fails, naming the
importing module, the imported one and the contract, when a module breaks it on purpose.

Each case copies the Python sources to a temporary folder, adds one forbidden import to one
module and runs the same ``lint-imports`` that ``make lint`` runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: contract id -> (the module given a forbidden import, the module it imports)
VIOLATIONS = {
    "handler-alone": ("function.model", "stacks.config"),
    "stacks-contract-only": ("stacks.network", "function.handler"),
    "tooling-one-way": ("local.session", "migration.errors"),
    "workspace-shared": ("workspace.loopback", "local.paths"),
    "tap-alone": ("tap.progress", "workspace.loopback"),
    "product-not-tests": ("migration.report", "testkit.tap"),
    "rollout-edge": ("rollout.deploy", "stacks.rollout"),
    "restore-edge": ("restore.steps", "stacks.database"),
    "rotation-alone": ("rotation.handler", "function.auth"),
    "keyops-edge": ("keyops.cli", "rotation.handler"),
    "hclexport-edge": ("hclexport.render", "stacks.network"),
    "backfill-edge": ("backfill.cli", "stacks.database"),
    "cdk-one-module": ("stacks.network", "cdktf"),
    "terrain-edge": ("terrain.mend", "stacks.config"),
}


def _lint_imports(root: Path, contract: str | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(LINT_IMPORTS), "--no-cache", *(["--contract", contract] if contract else [])]
    env = {"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(root)}
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root packages' Python files and pyproject.toml, copied."""
    root = tmp_path_factory.mktemp("tree")
    keep_python = shutil.ignore_patterns("__pycache__", "*.json", "*.md", "*.txt", "*.toml", "*.yaml", "*.whl")
    for package in CONFIG["root_packages"]:
        shutil.copytree(ROOT / package, root / package, ignore=keep_python)
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_every_contract_is_exercised_here() -> None:
    assert {contract["id"] for contract in CONFIG["contracts"]} == set(VIOLATIONS)


def test_the_tree_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(VIOLATIONS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_a_violation_fails_naming_importer_imported_and_contract(tree: Path, contract: str) -> None:
    importer, imported = VIOLATIONS[contract]
    module = tree / (importer.replace(".", "/") + ".py")
    original = module.read_text()
    module.write_text(f"{original}\nimport {imported}  # a deliberate violation\n")
    try:
        result = _lint_imports(tree, contract)
    finally:
        module.write_text(original)
    (name,) = [c["name"] for c in CONFIG["contracts"] if c["id"] == contract]
    assert result.returncode == 1, result.stdout
    assert f"{name} BROKEN" in result.stdout
    assert f"{importer} -> {imported}" in result.stdout
    assert _lint_imports(tree, contract).returncode == 0, "the copy keeps the contract once the line is gone"


@pytest.mark.parametrize(
    ("package", "modules"),
    [
        ("rollout", {"rollout.cli", "rollout.deploy", "rollout.targets"}),
        ("restore", {"restore.cli", "restore.steps", "restore.target"}),
        ("hclexport", {"hclexport.cli", "hclexport.render", "hclexport.rules"}),
    ],
)
def test_nothing_but_tests_imports_an_end_point_command(package: str, modules: set[str]) -> None:
    """The other half of ``rollout-edge``, ``restore-edge`` and ``hclexport-edge``: these
    commands are end points, nothing in the product builds on them."""
    import grimp  # noqa: PLC0415 (import-linter's graph library, only needed here)

    graph = grimp.build_graph(*CONFIG["root_packages"])
    importers = {m for m in graph.find_downstream_modules(package, as_package=True) if not m.startswith("tests")}
    assert modules <= graph.modules  # the graph does hold it
    assert importers == set()


@pytest.mark.parametrize("package", ["keyops", "rotation", "backfill"])
def test_only_tests_and_the_operator_command_import_the_rotation_parts(package: str) -> None:
    """Nothing in the product builds on keyops or backfill; only keyops (and tests) use rotation."""
    import grimp  # noqa: PLC0415 (import-linter's graph library, only needed here)

    graph = grimp.build_graph(*CONFIG["root_packages"])
    allowed = ("tests", "keyops") if package == "rotation" else ("tests",)
    importers = {m for m in graph.find_downstream_modules(package, as_package=True) if not m.startswith(allowed)}
    assert f"{package}.cli" in graph.modules or f"{package}.handler" in graph.modules
    assert importers == set()
