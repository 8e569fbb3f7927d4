"""terrain/mend.py mends the one import cdktn get generates wrong, and refuses any other shape.

The shapes are small packages laid out as the generated bindings are (``_jsii``, ``provider``,
``provider_functions``, a resource module); the real generated package, when ``make
cdktn-bindings`` has made it, is checked too: nothing left unresolved, and the mend turns its
generated provider module into exactly the cached one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from stacks import cdk
from terrain import mend
from testkit import cdktn

ALIAS = "_AwsProviderFunctions_017ca18a"
GENERATED_LINE = f"from .functions import AwsProviderFunctions as {ALIAS}"
MENDED_LINE = f"from ..provider_functions import AwsProviderFunctions as {ALIAS}"
FUNCTIONS = """from .._jsii import *

class AwsProviderFunctions(
    _cdktn_78ede62e.TerraformProviderFunctions,
    metaclass=jsii.JSIIMeta,
    jsii_type="{jsii_type}",
):
    pass
"""


def _package(
    root: Path,
    provider_line: str = GENERATED_LINE,
    jsii_type: str = mend.FUNCTIONS_JSII_TYPE,
    with_functions: bool = True,
    vpc_imports: str = "from .._jsii import *",
) -> Path:
    package = root / "imports" / "aws"
    files = {
        "__init__.py": "from ._jsii import *\n",
        "_jsii/__init__.py": "import jsii\n",
        "provider/__init__.py": f"from .._jsii import *\n\n{provider_line}\n\nclass AwsProvider:\n    pass\n",
        "vpc/__init__.py": f"{vpc_imports}\n\nclass Vpc:\n    pass\n",
    }
    if with_functions:
        files["provider_functions/__init__.py"] = FUNCTIONS.format(jsii_type=jsii_type)
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


def test_the_generated_import_is_mended_once(tmp_path: Path) -> None:
    package = _package(tmp_path)
    assert [str(u) for u in mend.unresolved_imports(package)] == ["provider/__init__.py: from .functions import …"]
    assert mend.mend(package) == (
        "provider/__init__.py: from .functions -> from ..provider_functions (AwsProviderFunctions)"
    )
    text = (package / "provider" / "__init__.py").read_text()
    assert MENDED_LINE in text.splitlines() and GENERATED_LINE not in text
    assert mend.unresolved_imports(package) == []
    assert mend.mend(package) == "provider/__init__.py: already mended"


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (
            {"vpc_imports": "from .._jsii import *\nfrom ..vpc_extras import Thing"},
            "1 relative import(s) this mend does not know: vpc/__init__.py: from ..vpc_extras import …",
        ),
        ({"with_functions": False}, "provider_functions/__init__.py is missing"),
        (
            {"jsii_type": "aws.provider.AwsProviderFunctions"},
            "does not define AwsProviderFunctions as aws.providerFunctions.AwsProviderFunctions "
            "(aws.provider.AwsProviderFunctions)",
        ),
        (
            {"provider_line": "from .functions import AwsProviderFunctions"},
            "0 lines import .functions in the shape this mend expects, not 1",
        ),
        (
            {"provider_line": "import typing"},
            "has no import of AwsProviderFunctions to mend: cdktn get changed its output",
        ),
    ],
)
def test_any_other_shape_fails_loudly_and_changes_nothing(
    tmp_path: Path, shape: dict[str, object], message: str
) -> None:
    package = _package(tmp_path, **shape)
    before = {p: p.read_bytes() for p in package.rglob("*.py")}
    with pytest.raises(mend.MendFailed) as failed:
        mend.mend(package)
    assert message in str(failed.value)
    assert {p: p.read_bytes() for p in package.rglob("*.py")} == before


def test_a_folder_that_is_not_the_bindings_is_refused(tmp_path: Path) -> None:
    with pytest.raises(mend.MendFailed, match=r"provider/__init__\.py is missing: not the AWS bindings"):
        mend.mend(tmp_path)


def _generated() -> Path:
    cdktn.require()
    folder = cdk.selected({**os.environ, cdk.SWITCH: "cdktn"}).bindings_folder
    assert folder is not None
    return folder


def test_the_cached_bindings_are_mended_and_resolve() -> None:
    package = _generated()
    assert mend.unresolved_imports(package) == []
    assert MENDED_LINE in (package / "provider" / "__init__.py").read_text().splitlines()


def test_the_mend_turns_the_generated_provider_module_into_the_cached_one(tmp_path: Path) -> None:
    real = _generated()
    copy = tmp_path / "aws"
    for part in ("_jsii/__init__.py", "provider/__init__.py", "provider_functions/__init__.py"):
        (copy / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(real / part, copy / part)
    provider = copy / "provider" / "__init__.py"
    provider.write_text(provider.read_text().replace(MENDED_LINE, GENERATED_LINE))
    mend.mend(copy)
    assert provider.read_bytes() == (real / "provider" / "__init__.py").read_bytes()
