"""Load the AWS provider bindings one resource module at a time.

The ``cdktf_cdktf_provider_aws`` package's ``__init__.py`` imports all ~2,100 submodules (one
per resource type), most of a synth's cost, yet each submodule imports only the package's
``_jsii`` assembly and cdktf. :func:`install` (called by ``stacks/__init__.py``) therefore puts a
package object with the real folder as ``__path__`` in ``sys.modules``, which imports a submodule
when it is first used, but only if the installed package has the layout this was checked
against (a ``_jsii`` module, an ``__init__.py`` of submodule imports and generated boilerplate).
Anything else gets the normal import and one warning line; ``TAP_EAGER_PROVIDER_IMPORT=1``
turns it off.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
EAGER_SWITCH = "TAP_EAGER_PROVIDER_IMPORT"
_MARKER = "__tap_lazy_provider__"
#: What the generated ``__init__.py`` binds and imports besides its submodules.
_BOILERPLATE_NAMES = frozenset({"__path__", "__all__", "TYPEGUARD_MAJOR_VERSION", "check_type"})
_BOILERPLATE_MODULES = frozenset(
    {"abc", "builtins", "datetime", "enum", "typing", "jsii", "publication", "typing_extensions", "typeguard"}
)
_BOILERPLATE_IMPORTS_FROM = frozenset({"._jsii", "pkgutil", "importlib.metadata"})


class UnexpectedLayout(Exception):
    """The installed provider package is not shaped as this module expects."""


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


def _submodules(init_source: str) -> list[str]:
    """The submodules ``__init__.py`` imports, or UnexpectedLayout if it does anything else."""
    submodules: list[str] = []
    for node in ast.parse(init_source).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            submodules.extend(alias.name for alias in node.names)
        elif problem := _unexpected(node):
            raise UnexpectedLayout(problem)
    if not submodules:
        raise UnexpectedLayout("imports no submodules")
    return submodules


def _lazy_package(folder: Path, submodules: list[str]) -> types.ModuleType:
    """A package object for ``folder`` that imports a submodule when it is first asked for."""
    spec = importlib.util.spec_from_file_location(
        PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None, "a file location always gives a spec"
    package = importlib.util.module_from_spec(spec)  # not executed: the real __init__ never runs
    known = frozenset(submodules)

    def __getattr__(name: str) -> types.ModuleType:  # PEP 562: ``aws.vpc`` imports ``vpc``
        if name in known:
            return importlib.import_module(f"{PACKAGE}.{name}")
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    vars(package).update({"__all__": list(submodules), "__getattr__": __getattr__, _MARKER: True})
    return package


def install() -> bool:
    """Put the on-demand provider package in ``sys.modules``; True when it is in use.

    False, doing nothing, when the switch asks for the eager import, when the package is
    already imported, or, with one warning line on stderr, when its layout is not the expected one.
    """
    if os.environ.get(EAGER_SWITCH, "").strip() == "1":
        return False
    if PACKAGE in sys.modules:
        return bool(getattr(sys.modules[PACKAGE], _MARKER, False))
    try:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise UnexpectedLayout("is not installed as a package")
        folder = Path(next(iter(spec.submodule_search_locations)))
        if not (folder / "_jsii" / "__init__.py").is_file():
            raise UnexpectedLayout("has no _jsii assembly module")
        submodules = _submodules((folder / "__init__.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnexpectedLayout) as problem:
        print(f"tap-stack: warning: {PACKAGE} {problem}; importing it the normal (slow) way", file=sys.stderr)
        return False
    sys.modules[PACKAGE] = _lazy_package(folder, submodules)
    return True
