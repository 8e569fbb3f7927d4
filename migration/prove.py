"""``prove``: the whole move on a fresh local emulator (deploy the original HCL, ``adopt`` its
state into the ``prod`` stack's backend there), then nothing left behind (docs/migration.md, "Prove").
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from migration import commands
from migration.errors import CannotJudge
from migration.plan import TERRAFORM_FILES, emulator_provider, run_steps
from workspace import clients, processes
from workspace import emulator as moto
from workspace.terraform import emulator_env

_ZIP_REFERENCE = re.compile(r'filename\s*=\s*"([^"$]+\.zip)"')
_PLACEHOLDER_HANDLER = "def lambda_handler(event, context):\n    return {}\n"


def check_original(folder: Path) -> list[Path]:
    """The Terraform files of the original HCL, or a one-line refusal."""
    if not folder.exists():
        raise CannotJudge(f"--original {folder} does not exist", "pass the folder holding the original HCL (main.tf)")
    if not folder.is_dir():
        raise CannotJudge(f"--original {folder} is not a folder", "pass the folder that holds main.tf, not the file")
    try:
        files = sorted(p for p in folder.iterdir() if p.name.endswith((".tf", ".tf.json")) and p.is_file())
        for path in files:
            path.read_bytes()
    except OSError as exc:
        raise CannotJudge(f"cannot read --original {folder}: {exc.strerror}", "check its permissions") from None
    if not files:
        raise CannotJudge(f"--original {folder} holds no Terraform files (*.tf)", "pass the folder of the original HCL")
    return files


def _emulator_files(texts: str, endpoint: str) -> dict[str, dict[str, Any]]:
    """Extra Terraform files that send the original to the emulator and keep its state local."""
    provider = emulator_provider(endpoint)
    files: dict[str, dict[str, Any]] = {}
    if re.search(r'provider\s+"aws"', texts):
        files["zz_migration_emulator_override.tf.json"] = {"provider": {"aws": provider}}
    else:  # the original leaves the provider to the environment
        files["zz_migration_emulator.tf.json"] = {"provider": {"aws": {"region": clients.REGION, **provider}}}
    if re.search(r'backend\s+"', texts):
        files["zz_migration_backend_override.tf.json"] = {
            "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}}
        }
    return files


def deploy_original(original: Path, work: Path, endpoint: str, environ: dict[str, str]) -> Path:
    """Apply a copy of the original HCL to the emulator; the path of its state."""
    shutil.copytree(original, work, ignore=shutil.ignore_patterns(*TERRAFORM_FILES))
    texts = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in work.glob("*.tf"))
    for name in sorted(set(_ZIP_REFERENCE.findall(texts))):
        package = work / name
        if not package.exists():  # the package the original uploads by hand: a stand-in will do
            package.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(package, "w") as archive:
                archive.writestr("lambda_function.py", _PLACEHOLDER_HANDLER)
    for name, content in _emulator_files(texts, endpoint).items():
        (work / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
    steps = [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]
    todo = "make sure --original is the HCL the deployment was made from"
    run_steps(work, emulator_env(environ), steps, " of the original HCL on the emulator", lambda _: todo)
    state = work / "terraform.tfstate"
    if not state.is_file():
        raise CannotJudge("the original's apply wrote no terraform.tfstate", "check the original's backend settings")
    return state


def prove(original: Path, options: commands.Options, out: TextIO, keep: bool = False) -> int:
    """Deploy the original to a fresh emulator, adopt and check its state there; clean up; summary line last."""
    check_original(original)
    stack_dir = options.stack_dir or commands.synthesize(options.env, options.environ, out)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="tap-migration-prove-"))
    try:
        with moto.temporary(work / "emulator") as running:
            print(f"prove: emulator on {running.endpoint} (pid {running.pid})", file=out)
            step = time.monotonic()
            state = deploy_original(original, work / "original", running.endpoint, dict(options.environ))
            took = time.monotonic() - step
            print(f"prove: original HCL from {original} deployed to the emulator in {took:.1f} s", file=out)
            adopting = replace(
                options, from_state=str(state), stack_dir=stack_dir, emulator=running.endpoint, force=False,
                backup_dir=work / "backups", plan_out=work / f"{options.env}.plan.json",
            )  # fmt: skip
            backend = commands.backend_location(options.env, options.environ, running.endpoint)
            moto.ensure_state_bucket(running.endpoint, backend.bucket)
            code, verdict = commands.adopt(adopting, out)
    except moto.EmulatorError as exc:
        raise CannotJudge(f"the emulator failed: {str(exc).splitlines()[0]}", "see docs/local.md") from None
    finally:
        if keep:
            print(f"prove: work folder kept: {work}", file=out)
        else:
            shutil.rmtree(work, ignore_errors=True)
    left = "" if processes.wait_port_free(running.port) else f"; port {running.port} still in use"
    removed = "" if keep else ", temp files removed"
    print(f"prove: {time.monotonic() - started:.1f} s after synthesis; emulator stopped{removed}{left}", file=out)
    print(verdict.summary(), file=out)
    return code
