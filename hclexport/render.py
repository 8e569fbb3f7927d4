"""Write stacks as HCL folders: ``<outdir>/hcl/<env>/main.tf`` and the ``assets/`` it names.

main.py runs with ``SYNTH_HCL_OUTPUT=true``, the switch ``cdktf synth --hcl`` sets for the
app, so CDKTF's own renderer writes ``cdk.tf`` from the very constructs the JSON comes from
(no Node CLI needed). ``terraform fmt`` then does what the CLI's formatter does (both are
HashiCorp's hclwrite; fmt also unwraps ``"${x}"`` to ``x``), :mod:`hclexport.rules` mends
what the renderer gets wrong, and fmt runs again. In the folder only ``main.tf`` and
``assets/`` are replaced: a state file, ``.terraform/`` or files of your own stay.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hclexport.rules import RULES, Rule, mend
from workspace.paths import PROJECT
from workspace.synth import outdir
from workspace.terraform import terraform_binary, terraform_env

MAIN: Final = PROJECT / "main.py"
SYNTH_TIMEOUT: Final = 900.0
#: The file the stack's HCL is written to in its folder.
HCL_FILE: Final = "main.tf"
_BACKEND: Final = re.compile(r'^  backend "([^"]+)" \{$', re.MULTILINE)
_RESOURCE: Final = re.compile(r'^resource "', re.MULTILINE)


class ExportFailed(Exception):
    """Rendering or formatting failed: what happened, and the output that tells why."""

    def __init__(self, what: str, details: str) -> None:
        super().__init__(what)
        self.details = details


@dataclass(frozen=True)
class Exported:
    env: str
    folder: Path
    resources: int
    backend: str
    assets: int


def hcl_root(environ: Mapping[str, str]) -> Path:
    """``cdktf.out/hcl`` (under ``CDKTF_OUTDIR`` when that is set), as an absolute path."""
    return outdir(environ).absolute() / "hcl"


def render(envs: Sequence[str], environ: Mapping[str, str], workdir: Path) -> dict[str, Path]:
    """One run of main.py rendering ``envs`` as HCL into ``workdir``: {env: its stack folder}."""
    settings = dict(environ, SYNTH_HCL_OUTPUT="true", TAP_ENVIRONMENTS=",".join(envs), CDKTF_OUTDIR=str(workdir))
    try:
        result = subprocess.run(
            [sys.executable, str(MAIN)], cwd=PROJECT, env=settings, text=True, capture_output=True,
            timeout=SYNTH_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ExportFailed(f"main.py did not finish rendering within {SYNTH_TIMEOUT:.0f} s", "") from None
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise ExportFailed(f"main.py exited with code {result.returncode}", "\n".join(output.splitlines()[-20:]))
    folders = {env: workdir / "stacks" / env for env in envs}
    missing = [env for env, folder in folders.items() if not (folder / "cdk.tf").is_file()]
    if missing:
        raise ExportFailed(f"main.py wrote no cdk.tf for {', '.join(missing)}", output[-2000:])
    return folders


def terraform_fmt(text: str) -> str:
    """``text`` as ``terraform fmt`` writes it; HCL it cannot parse is an :class:`ExportFailed`."""
    result = subprocess.run(
        [terraform_binary(), "fmt", "-no-color", "-"], input=text, env=terraform_env(), text=True,
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise ExportFailed("terraform fmt cannot parse the rendered HCL", result.stderr.strip()[-3000:])
    return result.stdout


def finish(raw: str, rules: tuple[Rule, ...] = RULES) -> str:
    """The renderer's ``cdk.tf`` formatted, mended by ``rules`` and formatted again."""
    return terraform_fmt(mend(terraform_fmt(raw), rules))


def _place(rendered: Path, text: str, folder: Path) -> int:
    """``main.tf`` and ``assets/`` into ``folder``; returns how many asset files it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{HCL_FILE}.partial"
    partial.write_text(text)
    os.replace(partial, folder / HCL_FILE)
    shutil.rmtree(folder / "assets", ignore_errors=True)
    if not (rendered / "assets").is_dir():
        return 0
    shutil.move(rendered / "assets", folder / "assets")
    return sum(1 for path in (folder / "assets").rglob("*") if path.is_file())


def export(envs: Sequence[str], environ: Mapping[str, str]) -> list[Exported]:
    """Render, mend and write each of ``envs`` into ``hcl_root(environ)/<env>``."""
    terraform_binary()  # a missing terraform stops here, before anything is rendered or written
    root = hcl_root(environ)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".render-") as work:
        folders = render(envs, environ, Path(work))
        texts = {env: finish((folder / "cdk.tf").read_text()) for env, folder in folders.items()}
        exported = []
        for env, text in texts.items():
            backend = _BACKEND.search(text)
            assets = _place(folders[env], text, root / env)
            resources = len(_RESOURCE.findall(text))
            exported.append(Exported(env, root / env, resources, backend[1] if backend else "local", assets))
    return exported
