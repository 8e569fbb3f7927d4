"""Synthesize the ``local`` stack and drive Terraform against the emulator.

Every function here raises :class:`StepFailed` for the failures a user can meet (a stack
that does not synthesize, an apply the emulator refuses, a missing terraform), with the
log's telling lines and what to do next.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from local.paths import LocalPaths
from local.processes import tail
from local.progress import StepFailed
from local.terraform import TerraformMissing, terraform_binary, terraform_env

#: Variables that could make Terraform reach for a real AWS account; the local stack brings
#: its own dummy credentials, so these are dropped from Terraform's environment.
_REAL_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def stack_file(paths: LocalPaths) -> Path:
    return paths.stack_dir / "cdk.tf.json"


def synth_environment(endpoint: str, paths: LocalPaths, base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env["TAP_ENVIRONMENTS"] = "local"
    env["TAP_EMULATOR_ENDPOINT"] = endpoint
    # The local stack keeps its state on the emulator, whatever backend the shell (or the
    # Makefile, which defaults to a local backend without a state bucket) asks for elsewhere.
    env["TAP_BACKEND"] = "s3"
    env["CDKTF_OUTDIR"] = str(paths.outdir)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def synthesize(endpoint: str, paths: LocalPaths, timeout: float = 600.0) -> Path:
    """``TAP_ENVIRONMENTS=local python main.py --if-changed``: ``<outdir>/stacks/local/cdk.tf.json``.

    A synth whose inputs did not change since the last one is skipped (``stacks/synth_inputs.py``).
    """
    main_py = paths.project / "main.py"
    if not main_py.is_file():
        raise StepFailed("main.py is missing", "run from a complete checkout of the project")
    log = paths.log("synth")
    target = stack_file(paths)
    before = target.stat().st_mtime_ns if target.exists() else None
    code = _run_logged(
        [sys.executable, str(main_py), "--if-changed"], paths.project, synth_environment(endpoint, paths), log, timeout
    )
    if code != 0:
        raise StepFailed(
            f"synthesizing the local stack exited with code {code}",
            f"fix the error above and retry; reproduce with: TAP_ENVIRONMENTS=local {paths.rel(Path(sys.executable))} "
            f"main.py (full log: {paths.rel(log)})",
            tail(log, 20),
        )
    if not target.is_file() or (before is not None and target.stat().st_mtime_ns < before):
        raise StepFailed(
            f"main.py ran but wrote no {paths.rel(target)}",
            "check that main.py synthesizes the 'local' stack into the directory CDKTF_OUTDIR names",
            tail(log, 10),
        )
    return target


def terraform_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = terraform_env(base)
    for name in _REAL_AWS_VARIABLES:
        env.pop(name, None)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def _run_logged(argv: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path, timeout: float) -> int:
    """Run ``argv`` with its output going to ``log``; stop it gracefully on timeout or Ctrl-C."""
    with open(log, "w", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _interrupt(process)
            out.write(f"\n[local] stopped after the {timeout:.0f} s time limit\n")
            return -1
        except KeyboardInterrupt:
            # Ctrl-C reached the child too (same process group): give it time to stop cleanly,
            # so Terraform writes its state and releases its lock.
            _interrupt(process, already_signalled=True)
            raise


def _interrupt(process: subprocess.Popen[Any], already_signalled: bool = False) -> None:
    try:
        if not already_signalled:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        process.kill()
        process.wait()


def _binary(fix: str) -> str:
    """The terraform CLI's path; a missing one is a :class:`StepFailed` that says ``fix``."""
    try:
        return terraform_binary()
    except TerraformMissing as exc:
        raise StepFailed(str(exc), fix) from None


def _terraform_logged(args: Sequence[str], paths: LocalPaths, log_name: str, timeout: float) -> tuple[int, Path]:
    """``terraform ARGS`` in the stack folder, its output going to the log ``log_name``."""
    binary = _binary("install Terraform >= 1.10 and make sure `terraform version` works")
    log = paths.log(log_name)
    code = _run_logged([binary, *args], paths.stack_dir, terraform_environment(), log, timeout)
    return code, log


def _terraform(paths: LocalPaths, *args: str) -> subprocess.CompletedProcess[str]:
    """``terraform ARGS`` in the stack folder, its stdout and stderr captured (5 minutes at most)."""
    return subprocess.run(
        [_binary("install Terraform >= 1.10"), *args],
        cwd=paths.stack_dir,
        env=terraform_environment(),
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


def terraform_errors(log: Path, limit: int = 40) -> str:
    """The ``Error:`` blocks of a Terraform log: the message and the resource it names (or
    the log's last lines when there is no such block)."""
    try:
        lines = _ANSI.sub("", log.read_text(errors="replace")).splitlines()
    except OSError:
        return "    (no log)"
    is_error = re.compile(r"^[│\s]*Error:")
    picked: list[str] = []
    for index, line in enumerate(lines):
        if not is_error.match(line):
            continue
        picked.append(line.strip("│ "))
        for follow in lines[index + 1 : index + 12]:
            text = follow.strip("│ ╵")
            if is_error.match(follow) or re.match(r"^\d+:", text):
                break  # the next error, or Terraform's excerpt of cdk.tf.json
            if text:
                picked.append("  " + text)
    if not picked:
        return tail(log, 20)
    return "\n".join("    | " + line for line in picked[:limit])


def _summary(log: Path, prefix: str) -> str:
    """Terraform's last ``<prefix> Resources: …`` line in ``log``, or the prefix alone."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith(prefix)]
    return lines[-1].strip() if lines else prefix.rstrip("!").lower()


def terraform_init(paths: LocalPaths, timeout: float = 600.0) -> None:
    code, log = _terraform_logged(
        ["init", "-input=false", "-no-color", "-reconfigure"], paths, "terraform-init", timeout
    )
    if code != 0:
        raise StepFailed(
            f"terraform init exited with code {code}",
            f"read {paths.rel(log)}; if the backend cannot be reached, check the emulator "
            f"({paths.rel(paths.emulator_log)}) or start afresh: make local-down && make local",
            terraform_errors(log),
        )


def terraform_apply(paths: LocalPaths, timeout: float = 1200.0) -> str:
    """Apply; returns Terraform's summary line (``Apply complete! Resources: …``)."""
    code, log = _terraform_logged(
        ["apply", "-auto-approve", "-input=false", "-no-color"], paths, "terraform-apply", timeout
    )
    if code != 0:
        raise StepFailed(
            f"terraform apply exited with code {code}" + (" (time limit reached)" if code == -1 else ""),
            f"read the full log {paths.rel(log)}; fix the resource it names (or report it), then run "
            "make local again (it reuses the emulator and applies what is missing)",
            terraform_errors(log),
        )
    return _summary(log, "Apply complete!")


def terraform_destroy(paths: LocalPaths, timeout: float = 1200.0) -> str:
    code, log = _terraform_logged(
        ["destroy", "-auto-approve", "-input=false", "-no-color"], paths, "terraform-destroy", timeout
    )
    if code != 0:
        raise StepFailed(
            f"terraform destroy exited with code {code}",
            f"read {paths.rel(log)}; run make local-down again, or stop everything without destroying: "
            "python -m local.down --force (the emulator keeps its state in memory only)",
            terraform_errors(log),
        )
    return _summary(log, "Destroy complete!")


def terraform_outputs(paths: LocalPaths) -> dict[str, Any]:
    """``terraform output -json`` as {name: value}."""
    result = _terraform(paths, "output", "-json", "-no-color")
    if result.returncode != 0:
        raise StepFailed("terraform output failed", "re-run make local", _indent(result.stdout + result.stderr))
    try:
        raw = json.loads(result.stdout or "{}")
    except ValueError:
        raise StepFailed(
            "terraform output -json printed no JSON", "re-run make local", _indent(result.stdout)
        ) from None
    return {name: entry.get("value") for name, entry in raw.items()}


def terraform_state_list(paths: LocalPaths) -> list[str]:
    """Addresses in the state; raises StepFailed when the state cannot be read."""
    result = _terraform(paths, "state", "list")
    if result.returncode != 0:
        raise StepFailed("terraform state list failed", "check the emulator", _indent(result.stdout + result.stderr))
    return [line for line in result.stdout.splitlines() if line.strip()]


def _indent(text: str, limit: int = 20) -> str:
    lines = text.rstrip("\n").splitlines()[-limit:]
    return "\n".join("    | " + line for line in lines)
