"""The one module that names the CDK core library and the AWS provider bindings; ``TAP_CDK`` chooses.

``cdktf`` (the default): CDK for Terraform with the prebuilt ``cdktf_cdktf_provider_aws``
bindings, pinned by Pipfile.lock. ``cdktn``: CDK Terrain in ``.venv-cdktn/`` with the bindings
``make cdktn-bindings`` generates into ``.gen/cdktn/aws-<version>/`` (``TAP_CDKTN_CACHE`` moves
``.gen/cdktn``); docs/cdk-terrain.md. A value that is neither, or a library or bindings not
there, is a :class:`ConfigError` naming what to run. Everything else uses
``from stacks.cdk import bindings, core``; both load on first use (PEP 562), the bindings one
resource module at a time (``stacks/lazy_provider.py``). mypy checks against cdktf.

A resource's class is ``bindings.<its Terraform type without aws_>.<Class>``, e.g.
``bindings.vpc.Vpc`` for ``aws_vpc``; a file that needs several of one module's nested settings
classes names the module once (``scaling_policy = bindings.appautoscaling_policy``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stacks import lazy_provider
from stacks.errors import ConfigError

if TYPE_CHECKING:
    import cdktf as core
    import cdktf_cdktf_provider_aws as bindings

__all__ = ["AWS_PROVIDER_VERSION", "SWITCH", "Library", "bindings", "core", "handover", "selected"]

ROOT = Path(__file__).resolve().parents[1]
SWITCH = "TAP_CDK"
#: The hashicorp/aws release both libraries' bindings are made for.
AWS_PROVIDER_VERSION = "5.100.0"
CACHE_SWITCH = "TAP_CDKTN_CACHE"
#: cdktn's own Python environment: its constructs range excludes the one Pipfile.lock pins.
CDKTN_VENV = ROOT / ".venv-cdktn"
#: The file ``make cdktn-bindings`` writes last, once the generated bindings are mended and import.
READY = "READY"


@dataclass(frozen=True)
class Library:
    """One choice of ``TAP_CDK``: the modules to import and where the generated bindings live."""

    name: str
    core: str
    bindings: str
    #: The generation's folder for generated bindings; None for an installed package.
    generated: Path | None
    #: What installs the library.
    install: str

    @property
    def bindings_folder(self) -> Path | None:
        """The bindings package's own folder when generated (``…/imports/aws``)."""
        return None if self.generated is None else self.generated.joinpath(*self.bindings.split("."))

    @property
    def ready(self) -> Path | None:
        """The file that marks generated bindings complete (its content names the generation)."""
        return None if self.generated is None else self.generated / READY

    def check(self) -> None:
        """A ConfigError naming what to run when the library or its bindings are not here."""
        if importlib.util.find_spec(self.core) is None:
            raise ConfigError(
                f"{SWITCH}={self.name}: the {self.core} library is not installed "
                f"in {sys.executable}: run {self.install}"
            )
        if self.ready is not None and not self.ready.is_file():
            raise ConfigError(
                f"{SWITCH}={self.name}: the AWS {AWS_PROVIDER_VERSION} bindings are not generated "
                f"(no {self.ready}): run make cdktn-bindings (Node >= 22.19)"
            )


def selected(environ: Mapping[str, str] | None = None) -> Library:
    """The library ``TAP_CDK`` names (``cdktf`` when unset); a ConfigError for any other value."""
    environ = os.environ if environ is None else environ
    name = environ.get(SWITCH, "").strip() or "cdktf"
    if name == "cdktf":
        return Library("cdktf", "cdktf", "cdktf_cdktf_provider_aws", None, "make install")
    if name == "cdktn":
        generated = Path(environ.get(CACHE_SWITCH) or ROOT / ".gen" / "cdktn") / f"aws-{AWS_PROVIDER_VERSION}"
        return Library("cdktn", "cdktn", "imports.aws", generated, "make cdktn-install")
    raise ConfigError(
        f"{SWITCH}={name!r} is unknown: set {SWITCH}=cdktf (CDK for Terraform, the default) "
        f"or {SWITCH}=cdktn (CDK Terrain)"
    )


def handover(library: Library) -> Path | None:
    """The interpreter to run main.py with instead of this one: cdktn's venv when cdktn is chosen,
    absent here and installed there (``npx cdktn synth`` starts main.py through pipenv)."""
    python = CDKTN_VENV / "bin" / "python"
    if library.name != "cdktn" or importlib.util.find_spec(library.core) is not None or not python.is_file():
        return None
    return None if Path(sys.prefix).resolve() == CDKTN_VENV.resolve() else python


if not TYPE_CHECKING:

    def __getattr__(name: str) -> types.ModuleType:
        """``core`` and ``bindings`` of the chosen library, imported on first use."""
        if name == "core":
            return importlib.import_module(selected().core)
        if name == "bindings":
            library = selected()
            return lazy_provider.load(library.bindings, library.bindings_folder)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
