"""Load an AWS provider bindings package one resource module at a time.

A jsii bindings package has ~2,100 submodules, one per resource type; importing them all is
most of a synth's cost. :func:`load` puts a package object in ``sys.modules`` that imports a
submodule on first use, but only for the layout this was checked against: a ``_jsii``
module and an ``__init__.py`` of generated boilerplate whose ``__all__`` lists the submodules.
Anything else gets the normal import and one warning line; ``TAP_EAGER_PROVIDER_IMPORT=1``
imports every submodule.
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types
from pathlib import Path

EAGER_SWITCH = "TAP_EAGER_PROVIDER_IMPORT"
MARKER = "__tap_lazy_provider__"
#: What the generated ``__init__.py`` binds and imports besides its submodules.
_BOILERPLATE_NAMES = frozenset({"__path__", "__all__", "TYPEGUARD_MAJOR_VERSION", "check_type"})
_BOILERPLATE_MODULES = frozenset(
    {"abc", "builtins", "datetime", "enum", "typing", "jsii", "publication", "typing_extensions", "typeguard"}
)
_BOILERPLATE_IMPORTS_FROM = frozenset({"._jsii", "pkgutil", "importlib.metadata"})


class UnexpectedLayout(Exception):
    """The provider package is not shaped as this module expects."""


def _unexpected(node: ast.stmt) -> str | None:
    """What a statement beyond the generated boilerplate does, for the warning line; None for boilerplate."""
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
        return None if set(modules) <= _BOILERPLATE_MODULES else "imports " + ", ".join(modules)
    if isinstance(node, ast.ImportFrom):
        source = "." * node.level + (node.module or "")
        return None if source in _BOILERPLATE_IMPORTS_FROM else f"imports from {source}"
    if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Assign):
        names = [ast.unparse(t) for t in node.targets] if isinstance(node, ast.Assign) else [node.name]
        boilerplate = set(names) <= _BOILERPLATE_NAMES and not isinstance(node, ast.ClassDef)
        return None if boilerplate else "defines " + ", ".join(names)
    # The docstring, and the call that registers the assembly.
    if isinstance(node, ast.Expr) and (
        isinstance(node.value, ast.Constant) or ast.unparse(node) == "publication.publish()"
    ):
        return None
    return f"has a statement this loader does not know: {ast.unparse(node)[:60]}"


def _listed(node: ast.stmt) -> list[str] | None:
    """The names of an ``__all__ = [...]`` of string constants; None for any other statement."""
    if not (isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]):
        return None
    if not isinstance(node.value, ast.List):
        raise UnexpectedLayout("defines __all__ as something else than a list")
    return [ast.literal_eval(item) for item in node.value.elts]


def submodules(init_source: str) -> list[str]:
    """The submodules ``__init__.py`` lists in ``__all__``, or UnexpectedLayout if it does anything else."""
    imported: list[str] = []
    listed: list[str] = []
    for node in ast.parse(init_source).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            imported.extend(alias.name for alias in node.names)
        elif (names := _listed(node)) is not None:
            listed.extend(names)
        elif problem := _unexpected(node):
            raise UnexpectedLayout(problem)
    if not listed:
        raise UnexpectedLayout("lists no submodules in __all__")
    if imported and set(imported) != set(listed):
        raise UnexpectedLayout("imports other submodules than its __all__ lists")
    return listed


def _spec(package: str, folder: Path) -> importlib.machinery.ModuleSpec:
    spec = importlib.util.spec_from_file_location(
        package, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None, "a file location always gives a spec"
    return spec


def _lazy_package(package: str, folder: Path, names: list[str]) -> types.ModuleType:
    """A package object for ``folder`` that imports a submodule when it is first asked for."""
    module = importlib.util.module_from_spec(_spec(package, folder))  # not executed: the real __init__ never runs
    known = frozenset(names)

    def __getattr__(name: str) -> types.ModuleType:  # PEP 562: ``aws.vpc`` imports ``vpc``
        if name in known:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    vars(module).update({"__all__": list(names), "__getattr__": __getattr__, MARKER: True})
    return module


def _eager(package: str, folder: Path | None) -> types.ModuleType:
    """The package as its own ``__init__`` makes it, with every submodule it lists imported."""
    if folder is None:
        module = importlib.import_module(package)
    else:
        spec = _spec(package, folder)
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        assert spec.loader is not None, "a file location always has a loader"
        spec.loader.exec_module(module)
    names = getattr(module, "__all__", [])
    for name in names if isinstance(names, list) else []:
        setattr(module, name, importlib.import_module(f"{package}.{name}"))
    return module


def load(package: str, folder: Path | None = None) -> types.ModuleType:
    """The bindings ``package`` (installed, or generated into ``folder``), loading submodules on demand.

    Already imported: that module, as it is. ``TAP_EAGER_PROVIDER_IMPORT=1``, or (with one warning
    line on stderr) a layout that is not the expected one: the normal import of every submodule.
    """
    if package in sys.modules:
        return sys.modules[package]
    if os.environ.get(EAGER_SWITCH, "").strip() == "1":
        return _eager(package, folder)
    try:
        found = folder
        if found is None:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise UnexpectedLayout("is not installed as a package")
            found = Path(next(iter(spec.submodule_search_locations)))
        if not (found / "_jsii" / "__init__.py").is_file():
            raise UnexpectedLayout("has no _jsii assembly module")
        names = submodules((found / "__init__.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnexpectedLayout) as problem:
        print(f"tap-stack: warning: {package} {problem}; importing it the normal (slow) way", file=sys.stderr)
        return _eager(package, folder)
    module = _lazy_package(package, found, names)
    sys.modules[package] = module
    return module
