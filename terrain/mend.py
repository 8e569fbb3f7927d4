"""Mend the one import ``cdktn get`` 0.24 generates wrong in the AWS bindings, or fail loudly.

The provider's functions class has the jsii type ``aws.providerFunctions.AwsProviderFunctions``
and is generated into the submodule ``provider_functions``, but the provider module imports it
as ``from .functions import AwsProviderFunctions as _AwsProviderFunctions_<hash>``: a module that
does not exist, so importing ``provider`` (every stack's AwsProvider) fails. :func:`mend`
points that line at ``..provider_functions``.

It mends only the shape it was written for and raises :class:`MendFailed`, saying what
differs, for anything else: every relative import of every generated module must resolve
except that one line (or none, once mended), the line must be exactly as above, and
``provider_functions`` must define the class under that jsii type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: The broken line, as generated; group 1 is the alias the module uses.
BROKEN = re.compile(r"^from \.functions import AwsProviderFunctions as (_AwsProviderFunctions_[0-9a-f]{8})$", re.M)
MENDED = "from ..provider_functions import AwsProviderFunctions as {alias}"
FUNCTIONS_CLASS = re.compile(r'^class AwsProviderFunctions\(\n(?:.*\n){0,3}?\s+jsii_type="([^"]+)",$', re.M)
FUNCTIONS_JSII_TYPE = "aws.providerFunctions.AwsProviderFunctions"
_RELATIVE_IMPORT = re.compile(rb"^from (\.+)([\w.]*) import", re.M)


class MendFailed(Exception):
    """The generated bindings are not shaped as this mend expects: it changed nothing."""


@dataclass(frozen=True)
class Unresolved:
    """A relative import in ``module`` (a path relative to the package) of a module that does not exist."""

    module: str
    target: str

    def __str__(self) -> str:
        return f"{self.module}: from {self.target} import …"


def _exists(package: Path, parts: list[str]) -> bool:
    target = package.joinpath(*parts)
    return (target / "__init__.py").is_file() or target.with_suffix(".py").is_file() or not parts


def unresolved_imports(package: Path) -> list[Unresolved]:
    """Every relative import in the package's modules whose target module is not there."""
    found = []
    for module in sorted(package.rglob("*.py")):
        for match in _RELATIVE_IMPORT.finditer(module.read_bytes()):
            dots, name = match.group(1).decode(), match.group(2).decode()
            base = module.parent.parents[len(dots) - 2] if len(dots) > 1 else module.parent
            inside = base.is_relative_to(package)
            if not inside or not _exists(package, [*base.relative_to(package).parts, *filter(None, name.split("."))]):
                found.append(Unresolved(module.relative_to(package).as_posix(), dots + name))
    return found


def _check_functions_class(package: Path) -> None:
    source = package / "provider_functions" / "__init__.py"
    if not source.is_file():
        raise MendFailed(f"{source} is missing: the class the provider module imports is not generated there")
    declared = FUNCTIONS_CLASS.search(source.read_text(encoding="utf-8"))
    if declared is None or declared.group(1) != FUNCTIONS_JSII_TYPE:
        found = declared.group(1) if declared else "no class AwsProviderFunctions"
        raise MendFailed(f"{source} does not define AwsProviderFunctions as {FUNCTIONS_JSII_TYPE} ({found})")


def mend(package: Path) -> str:
    """Mend the bindings package at ``package`` (``…/imports/aws``) in place; what was done, in one line."""
    provider = package / "provider" / "__init__.py"
    if not provider.is_file():
        raise MendFailed(f"{provider} is missing: not the AWS bindings cdktn get generates")
    unresolved = unresolved_imports(package)
    others = [str(u) for u in unresolved if (u.module, u.target) != ("provider/__init__.py", ".functions")]
    if others:
        raise MendFailed(f"{len(others)} relative import(s) this mend does not know: {'; '.join(others[:5])}")
    _check_functions_class(package)
    text = provider.read_text(encoding="utf-8")
    broken = BROKEN.findall(text)
    if not unresolved:
        if re.search(r"^from \.\.provider_functions import AwsProviderFunctions as _AwsProviderFunctions_", text, re.M):
            return f"{provider.relative_to(package)}: already mended"
        raise MendFailed(f"{provider} has no import of AwsProviderFunctions to mend: cdktn get changed its output")
    if len(broken) != 1:
        raise MendFailed(f"{provider}: {len(broken)} lines import .functions in the shape this mend expects, not 1")
    (alias,) = broken
    provider.write_text(BROKEN.sub(MENDED.format(alias=alias), text), encoding="utf-8")
    if left := unresolved_imports(package):
        raise MendFailed(f"still unresolved after the mend: {'; '.join(map(str, left[:5]))}")
    return f"{provider.relative_to(package)}: from .functions -> from ..provider_functions (AwsProviderFunctions)"
