"""``check`` and ``adopt``: plan the stack against a deployment's state, judge it, hand the state over.

Bad input is refused before anything is synthesized, planned or written: the environment,
the state (present, complete, readable by this Terraform, from the original deployment)
and, for ``adopt``, the destination (empty unless ``--force``, not locked).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from migration import addresses
from migration import plan as planning
from migration import state as states
from migration.errors import CannotJudge
from migration.expected import load_expected
from migration.judge import Verdict, judge
from migration.report import json_report, text_report
from stacks.config import ENVIRONMENTS, ConfigError, load_backend
from workspace import synth
from workspace.loopback import is_loopback_url
from workspace.paths import PROJECT, shown
from workspace.terraform import emulator_env

#: Plans, backups and the synth log of `check` and `adopt` (git-ignored).
WORK_DIR = PROJECT / ".migration"
#: The state bucket on an emulator when TAP_STATE_BUCKET names none.
EMULATOR_STATE_BUCKET = "tap-stack-migration-state"


@dataclass
class Options:
    env: str = "prod"
    from_state: str | None = None
    stack_dir: Path | None = None
    emulator: str | None = None
    plan_out: Path | None = None
    backup_dir: Path | None = None
    force: bool = False
    as_json: bool = False
    verbose: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def check_options(options: Options) -> None:
    """Refuse an unknown environment or an emulator off loopback."""
    if options.env not in ENVIRONMENTS:
        raise CannotJudge(f"environment {options.env!r} is unknown", f"choose one of {', '.join(ENVIRONMENTS)}")
    if options.emulator is not None and not is_loopback_url(options.emulator):
        raise CannotJudge(f"--emulator {options.emulator} is not a loopback URL", "use http://127.0.0.1:PORT")


def synth_environ(environ: Mapping[str, str], env: str) -> dict[str, str]:
    """The settings main.py synthesizes with: the caller's, selecting ``env``.

    Without a state bucket the backend is local, as with ``make synth``.
    """
    result = dict(environ)
    selected = [s.strip() for s in result.get("TAP_ENVIRONMENTS", "").split(",") if s.strip()]
    if selected and env not in selected:
        result["TAP_ENVIRONMENTS"] = env
    if not result.get("TAP_BACKEND") and not result.get("TAP_STATE_BUCKET"):
        result["TAP_BACKEND"] = "local"
    return result


def synthesize(env: str, environ: Mapping[str, str], out: TextIO) -> Path:
    """The stack's folder after ``python main.py --if-changed`` (skipped when no input changed)."""
    try:
        done = synth.synthesize(env, synth_environ(environ, env), WORK_DIR / "synth.log")
    except synth.SynthFailed as failed:
        raise CannotJudge(failed.what, failed.todo) from None
    print(f"synth: {'reused' if done.reused else 'synthesized'} {env} stack in {shown(done.stack_dir)}", file=out)
    return done.stack_dir


def backend_location(env: str, environ: Mapping[str, str], emulator: str | None) -> states.StateLocation:
    """Where the stack's backend keeps the state: its S3 object (on the emulator with ``--emulator``) or local file."""
    settings = synth_environ(environ, env)
    if emulator:
        settings.update(
            {"TAP_BACKEND": "s3", "TAP_STATE_BUCKET": settings.get("TAP_STATE_BUCKET") or EMULATOR_STATE_BUCKET}
        )
    try:
        backend = load_backend(env, settings)
    except ConfigError as exc:
        raise CannotJudge(str(exc), "fix that setting (README: Settings)") from None
    if backend.kind == "local":
        return states.StateLocation(path=synth.outdir(settings) / "stacks" / env / f"terraform.{env}.tfstate")
    bucket = settings["TAP_STATE_BUCKET"] if emulator else str(backend.bucket)
    return states.StateLocation(
        bucket=bucket, key=backend.key, region=backend.region, endpoint=emulator or backend.endpoint
    )


def source_location(options: Options) -> states.StateLocation:
    if options.from_state is None:
        return backend_location(options.env, options.environ, options.emulator)
    region = options.environ.get("AWS_REGION") or options.environ.get("TAP_STATE_REGION") or "us-west-2"
    return states.parse_location(options.from_state, region, options.emulator)


@dataclass
class Checked:
    verdict: Verdict
    source: states.StateLocation
    data: bytes
    plan_file: Path
    header: list[str]

    def show(self, options: Options, out: TextIO, brief: bool = False, **extra: str) -> None:
        """The verdict: with ``--json`` one JSON object (none when ``brief``), else the text report
        (``brief``: the header and the summary line only, when all is well)."""
        if options.as_json:
            if not brief:
                about = {"env": options.env, "state": str(self.source), "plan_file": str(self.plan_file), **extra}
                print(json.dumps(json_report(self.verdict, about), indent=2), file=out)
        elif brief and self.verdict.ok:
            print("\n".join([*self.header, self.verdict.summary()]), file=out)
        else:
            print(text_report(self.verdict, self.header, options.verbose), file=out)


def run_check(options: Options, out: TextIO, location: states.StateLocation | None = None) -> Checked:
    """Plan the stack against the state at ``location`` (default: --from-state, else the backend's) and judge.

    A ``--from-state`` state is planned from a copy; the backend's own state through the
    stack's backend configuration, as ``terraform plan`` in the stack folder would.
    """
    check_options(options)
    expected = load_expected()
    via_backend = location is None and options.from_state is None
    location = location or source_location(options)
    data = states.read_bytes(location)
    assert data is not None
    info = states.inspect_state(data, str(location), planning.terraform_version())
    found = sum(1 for a in expected.originals if a in info.addresses)
    if found == 0:
        raise CannotJudge(
            f"this state does not look like the original deployment: 0/{len(expected.originals)} addresses found "
            f"in {location} ({len(info.addresses)} other resources)",
            "pass the state of the original HCL deployment (terraform state pull > original.tfstate)",
        )
    stack_dir = options.stack_dir or synthesize(options.env, options.environ, out)
    # Before planning: a resource of the state the stack no longer declares fails the check even if no plan comes.
    comparison = addresses.compare(info.addresses, addresses.read_stack(stack_dir))
    plan_file = options.plan_out or WORK_DIR / f"{options.env}.plan.json"
    plan: dict[str, Any] | None = None
    plan_error = ""
    with tempfile.TemporaryDirectory(prefix="tap-migration-", ignore_cleanup_errors=True) as folder:
        work = Path(folder)
        state_file = location.path
        if not via_backend:
            state_file = work / "state.tfstate"
            state_file.write_bytes(data)
        backend: dict[str, Any] | None = None  # the stack's own backend (S3, on AWS)
        if state_file is not None:
            backend = {"local": {"path": str(state_file.resolve())}}
        elif options.emulator:
            backend = planning.emulator_s3_backend(location.bucket, location.key, location.region, options.emulator)
        environ = emulator_env(dict(options.environ)) if options.emulator else dict(options.environ)
        try:
            plan = planning.plan(stack_dir, work, environ, backend, options.emulator)
        except CannotJudge as failed:
            if not comparison.missing:
                raise
            plan_error = failed.what  # the verdict stands without a plan: something of the state is gone
    if plan is not None:
        save_plan(plan, plan_file)
    else:
        plan_file.unlink(missing_ok=True)  # no stale plan of an earlier check beside this verdict
    verdict = judge(plan, expected, frozenset(info.addresses), comparison, plan_error)
    against = "the backend state" if via_backend else "a copy of"
    header = [
        f"check: the {options.env} stack planned against {against} {location} "
        f"(Terraform {info.terraform_version}, serial {info.serial}, {len(info.addresses)} resources, "
        f"{found}/{len(expected.originals)} original addresses)",
        f"plan:  {shown(plan_file)} (terraform show -json)" if plan is not None else "plan:  none (terraform failed)",
    ]
    return Checked(verdict, location, data, plan_file, header)


def save_plan(plan: dict[str, Any], plan_file: Path) -> None:
    """Write the plan JSON; it holds the state's values, so it is readable by its owner only, from the first byte."""
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(plan_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as dump:
        json.dump(plan, dump, indent=1)
    plan_file.chmod(0o600)


def check(options: Options, out: TextIO) -> int:
    checked = run_check(options, out)
    checked.show(options, out)
    return 0 if checked.verdict.ok else 1


def _destination_resources(data: bytes | None) -> int:
    if not data:
        return 0
    try:
        parsed = json.loads(data)
        return sum(len(r.get("instances", [])) for r in parsed.get("resources", []) if r.get("mode") == "managed")
    except (ValueError, AttributeError, TypeError):
        return -1  # unreadable: treated as holding something


def adopt(options: Options, out: TextIO) -> tuple[int, Verdict]:
    """Check, back the source up, write it to the stack's backend, check again: the exit status and last verdict."""
    check_options(options)
    if options.from_state is None:
        raise CannotJudge("adopt needs the state to move", "pass it with --from-state FILE or s3://BUCKET/KEY")
    source = source_location(options)
    destination = backend_location(options.env, options.environ, options.emulator)
    if str(source) == str(destination):
        raise CannotJudge(f"{source} already is the {options.env} stack's backend state", "run check instead")
    existing = states.read_bytes(destination, missing_ok=True)
    held = _destination_resources(existing)
    if held and not options.force:
        what = "an unreadable state" if held < 0 else f"a state with {held} resources"
        raise CannotJudge(f"{destination} already holds {what}", "pass --force to replace it (it is backed up first)")
    if states.lock_exists(destination):
        raise CannotJudge(f"{destination} is locked (an apply may be running)", "wait for it to finish, then retry")
    first = run_check(options, out, source)
    first.show(options, out, brief=True)
    if not first.verdict.ok:
        print("adopt: nothing written (the check above failed)", file=out)
        return 1, first.verdict
    folder = options.backup_dir or WORK_DIR / "backups"
    saved = states.backup(first.data, folder, f"{options.env}-source")
    digest = hashlib.sha256(first.data).hexdigest()
    print(f"backup: {shown(saved)} sha256 {digest}", file=out)
    if existing:
        replaced = states.backup(existing, folder, f"{options.env}-replaced-destination")
        replaced_digest = hashlib.sha256(existing).hexdigest()
        print(f"backup: {shown(replaced)} sha256 {replaced_digest} (the state --force replaces)", file=out)
    states.write(destination, first.data)
    print(f"adopt: wrote {destination} sha256 {digest}; checking it again", file=out)
    second = run_check(replace(options, from_state=None), out)
    if second.data != first.data:
        raise CannotJudge(f"{destination} does not hold what was written", "check the backend bucket and retry")
    second.show(options, out, backup=str(saved), sha256=digest)
    return (0 if second.verdict.ok else 1), second.verdict
