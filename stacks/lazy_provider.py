"""Load the AWS provider bindings one resource module at a time.

The ``cdktf_cdktf_provider_aws`` package's ``__init__.py`` imports all of its ~2,100
submodules (one per AWS resource type), which is most of the cost of a synth. Yet
each submodule stands on its own: it imports only the package's ``_jsii`` assembly
module and cdktf, never its siblings through the package. :func:`install` therefore
registers a plain package object in ``sys.modules`` in place of that ``__init__``,
with the real folder as its ``__path__``, so ``import cdktf_cdktf_provider_aws.vpc``
loads ``_jsii`` and ``vpc`` alone. Attribute access (``aws.vpc``) imports on demand.

The shortcut is only taken when the installed package has the layout it was checked
against: a ``_jsii`` assembly module, and an ``__init__.py`` whose statements are
nothing but submodule imports and the generated boilerplate. Anything else (another
version of the bindings, say) falls back to the normal import with one warning line.

``stacks/__init__.py`` calls :func:`install`, so every program that synthesizes
(``main.py``, ``npx cdktf``, the tests, ``local/``) gets it before the first provider
import. ``TAP_EAGER_PROVIDER_IMPORT=1`` turns it off.
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
#: Set to ``1`` to import the provider package the normal (eager) way.
EAGER_SWITCH = "TAP_EAGER_PROVIDER_IMPORT"
#: Attribute that marks the on-demand package object.
_MARKER = "__tap_lazy_provider__"

#: Names the generated ``__init__.py`` may bind besides its submodules.
_BOILERPLATE_NAMES = frozenset({"__path__", "__all__", "TYPEGUARD_MAJOR_VERSION", "check_type"})
#: Modules the generated ``__init__.py`` imports besides its submodules.
_BOILERPLATE_MODULES = frozenset(
    {"abc", "builtins", "datetime", "enum", "typing", "jsii", "publication", "typing_extensions", "typeguard"}
)


class UnexpectedLayout(Exception):
    """The installed provider package is not shaped as this module expects."""


def _is_boilerplate(node: ast.stmt) -> bool:
    """True for the statements every generated ``__init__.py`` has besides its submodule imports."""
    if isinstance(node, ast.ImportFrom):
        return (node.level == 1 and node.module == "_jsii") or (
            node.level == 0 and node.module in {"pkgutil", "importlib.metadata"}
        )
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} <= _BOILERPLATE_MODULES
    if isinstance(node, ast.FunctionDef):
        return node.name in _BOILERPLATE_NAMES
    if isinstance(node, ast.Assign):
        return {ast.unparse(target) for target in node.targets} <= _BOILERPLATE_NAMES
    if isinstance(node, ast.Expr):  # the docstring, and the call that registers the assembly
        return isinstance(node.value, ast.Constant) or ast.unparse(node) == "publication.publish()"
    return False


def _describe(node: ast.stmt) -> str:
    """What an unexpected statement does, for the warning line."""
    if isinstance(node, ast.Import):
        return "imports " + ", ".join(alias.name for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return f"imports from {'.' * node.level}{node.module or ''}"
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return f"defines {node.name}"
    if isinstance(node, ast.Assign):
        return "defines " + ", ".join(ast.unparse(target) for target in node.targets)
    return f"has a statement this loader does not know: {ast.unparse(node)[:60]}"


def _submodules(init_source: str) -> list[str]:
    """The submodules ``__init__.py`` imports, or UnexpectedLayout if it does anything else."""
    submodules: list[str] = []
    for node in ast.parse(init_source).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            submodules.extend(alias.name for alias in node.names)
        elif not _is_boilerplate(node):
            raise UnexpectedLayout(_describe(node))
    if not submodules:
        raise UnexpectedLayout("imports no submodules")
    return submodules


def _lazy_package(folder: Path, submodules: list[str]) -> types.ModuleType:
    """A package object for ``folder`` that imports a submodule when it is first asked for."""
    package = types.ModuleType(PACKAGE, f"{PACKAGE}, loaded one submodule at a time (stacks/lazy_provider.py)")
    known = frozenset(submodules)

    def __getattr__(name: str) -> types.ModuleType:  # PEP 562: ``aws.vpc`` imports ``vpc``
        if name in known:
            return importlib.import_module(f"{PACKAGE}.{name}")
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    package.__path__ = [str(folder)]
    package.__file__ = str(folder / "__init__.py")
    vars(package).update({"__all__": list(submodules), "__getattr__": __getattr__, _MARKER: True})
    package.__spec__ = importlib.util.spec_from_file_location(
        PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    return package


def install(folder: Path | None = None) -> bool:
    """Put the on-demand provider package in ``sys.modules``; True when it is in use.

    ``folder`` is the package's folder (default: where Python would import it from).
    Returns False, doing nothing, when the switch asks for the eager import, when the
    package is already imported, or, with one warning line on stderr, when its layout
    is not the expected one.
    """
    if os.environ.get(EAGER_SWITCH, "").strip() == "1":
        return False
    if PACKAGE in sys.modules:
        return bool(getattr(sys.modules[PACKAGE], _MARKER, False))
    try:
        if folder is None:
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
