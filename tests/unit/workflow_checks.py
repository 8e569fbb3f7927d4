"""Rules for the GitHub Actions workflows, read from their parsed YAML (used by test_workflows.py).

Each ``check_*`` function returns the list of problems it finds (empty: the workflow follows
the rules). They are test code: nothing in the product imports them. zizmor and
action-validator (scripts/check-workflows.sh) audit the same files for known security
mistakes and schema errors; these rules pin what is particular to this project: the deploy
applies the saved, reviewed plan and nothing else, and the drift check fails on a change.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

Workflow = dict[str, Any]
Job = dict[str, Any]
Step = dict[str, Any]

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
ASSUME_ROLE_ACTION = "aws-actions/configure-aws-credentials"
#: The plan file the deploy workflow saves and applies, and the artifact that carries it.
PLAN_FILE = "tfplan"
PLAN_ARTIFACT = "tap-stack-prod-plan"
ENVIRONMENT = "production"
#: Options `terraform apply` may take in the apply job; anything else (``-auto-approve``,
#: ``-var``, ``-target``, ``-replace``, ``-destroy``, ``-refresh-only`` …) would mean planning
#: again or applying something other than the saved plan.
APPLY_OPTIONS = {"-input=false", "-no-color", "-compact-warnings"}
SHELL_OPERATORS = {"||", "&&", ";", "|", "&"}
#: A redirection token: ``>``, ``>>``, ``<`` (the file name follows) or ``2>&1``, ``>file``.
REDIRECTION = re.compile(r"^\d*(?:>>?|<)(?P<target>.*)$")


def load(name: str) -> Workflow:
    with (WORKFLOWS / name).open(encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    assert isinstance(loaded, dict), f"{name} is not a YAML mapping"
    return loaded


def triggers(workflow: Workflow) -> dict[str, Any]:
    """The ``on:`` block as a mapping (YAML 1.1 reads the bare key ``on`` as ``True``)."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def jobs(workflow: Workflow) -> dict[str, Job]:
    return dict(workflow.get("jobs") or {})


def steps(job: Job) -> list[Step]:
    return list(job.get("steps") or [])


def uses(step: Step) -> str:
    return str(step.get("uses", ""))


def action(step: Step) -> str:
    """``owner/repo`` of a ``uses:`` reference, without the ref."""
    return uses(step).split("@", 1)[0]


def assumes_role(job: Job) -> bool:
    return any(action(step) == ASSUME_ROLE_ACTION for step in steps(job))


def commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a ``run:`` script, as token lists (good enough for our scripts)."""
    for line in script.splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        command: list[str] = []
        skip_next = False
        for token in tokens:
            redirection = REDIRECTION.match(token)
            if skip_next:
                skip_next = False
            elif token in SHELL_OPERATORS:
                if command:
                    yield command
                command = []
            elif redirection:
                skip_next = not redirection.group("target")
            else:
                command.append(token)
        if command:
            yield command


def terraform_commands(step: Step, subcommand: str) -> list[list[str]]:
    """The ``terraform SUBCOMMAND …`` commands of a step, each without ``terraform SUBCOMMAND``."""
    found = []
    for command in commands(str(step.get("run", ""))):
        if len(command) >= 2 and command[0] == "terraform" and command[1] == subcommand:
            found.append(command[2:])
    return found


def index_of(job_steps: list[Step], predicate: Callable[[Step], bool]) -> int | None:
    return next((i for i, step in enumerate(job_steps) if predicate(step)), None)


def check_common(workflow: Workflow) -> list[str]:
    """Rules for every workflow: pins, triggers, token permissions, checkout, injection."""
    problems = []
    if "pull_request_target" in triggers(workflow):
        problems.append("pull_request_target runs fork code with the base repository's token: not allowed")
    problems += _check_permissions("workflow", workflow.get("permissions"), may_use_oidc=False)
    for job_id, job in jobs(workflow).items():
        if "uses" in job and not (str(job["uses"]).startswith("./") or PINNED.match(str(job["uses"]))):
            problems.append(f"job {job_id}: reusable workflow {job['uses']!r} is not pinned to a 40-hex commit SHA")
        permissions = job.get("permissions")
        if permissions is not None:  # else it inherits the workflow's, checked above
            problems += _check_permissions(f"job {job_id}", permissions, may_use_oidc=assumes_role(job))
        if assumes_role(job) and not (isinstance(permissions, dict) and permissions.get("id-token") == "write"):
            problems.append(f"job {job_id}: assumes an AWS role but does not ask for id-token: write")
        for step in steps(job):
            ref = uses(step)
            if ref and not ref.startswith("./") and not PINNED.match(ref):
                problems.append(f"job {job_id}: action {ref!r} is not pinned to a 40-hex commit SHA")
            if action(step) == "actions/checkout" and (step.get("with") or {}).get("persist-credentials") is not False:
                problems.append(f"job {job_id}: actions/checkout without persist-credentials: false")
            if "${{" in str(step.get("run", "")):
                problems.append(
                    f"job {job_id}, step {step.get('name', ref)!r}: an expression inside run: "
                    "(script injection); pass it through env:"
                )
    return problems


def _check_permissions(where: str, permissions: Any, *, may_use_oidc: bool) -> list[str]:
    if permissions is None:
        return [f"{where}: no permissions block (the token would get the repository's defaults)"]
    if isinstance(permissions, str):
        return [f"{where}: permissions: {permissions} grants every scope; list the scopes needed"]
    problems = []
    for scope, level in dict(permissions).items():
        if scope == "id-token" and level == "write":
            if not may_use_oidc:
                problems.append(f"{where}: id-token: write without assuming an AWS role")
        elif level not in ("read", "none"):
            problems.append(f"{where}: {scope}: {level} (only read scopes, and id-token: write to assume a role)")
    return problems


def check_deploy(workflow: Workflow) -> list[str]:
    """deploy.yml: plan on main, save the plan; apply that very file after review, then roll out."""
    problems = check_common(workflow)
    on = triggers(workflow)
    if ((on.get("push") or {}).get("branches")) != ["main"]:
        problems.append("deploy must run on push to main (on: push: branches: [main])")
    if "workflow_dispatch" not in on:
        problems.append("deploy must also run by hand (workflow_dispatch)")
    if set(on) - {"push", "workflow_dispatch"}:
        problems.append(f"deploy runs on other events too: {sorted(set(on) - {'push', 'workflow_dispatch'})}")
    concurrency = workflow.get("concurrency") or {}
    if not isinstance(concurrency, dict) or not concurrency.get("group"):
        problems.append("deploy has no concurrency group: two deploys could overlap")
    elif concurrency.get("cancel-in-progress") is not False:
        problems.append("deploy concurrency must not cancel a running deploy (cancel-in-progress: false)")
    all_jobs = jobs(workflow)
    plan, apply = all_jobs.get("plan"), all_jobs.get("apply")
    if plan is None or apply is None:
        return [*problems, "deploy needs the jobs plan and apply"]
    problems += _check_plan_job(plan)
    problems += _check_apply_job(apply)
    return problems


def _check_plan_job(plan: Job) -> list[str]:
    problems = []
    plan_steps = steps(plan)
    saved = index_of(plan_steps, lambda s: any(_writes_plan(args) for args in terraform_commands(s, "plan")))
    if saved is None:
        problems.append(f"plan job: no `terraform plan … -out {PLAN_FILE}` (the plan must be saved to be applied)")
    if any(terraform_commands(step, "apply") for step in plan_steps):
        problems.append("plan job: runs terraform apply (only the apply job may, after review)")
    if not any(
        args == ["-no-color", PLAN_FILE] and "GITHUB_STEP_SUMMARY" in str(step.get("run", ""))
        for step in plan_steps
        for args in terraform_commands(step, "show")
    ):
        problems.append(f"plan job: `terraform show -no-color {PLAN_FILE}` is not written to the job summary")
    sealed = index_of(plan_steps, lambda s: _runs_script(s, "seal", "$GITHUB_SHA"))
    if sealed is None:
        problems.append("plan job: the plan is not sealed with its commit (plan-artifact.sh seal … $GITHUB_SHA)")
    upload = index_of(plan_steps, lambda s: action(s) == "actions/upload-artifact")
    if upload is None:
        problems.append("plan job: the plan is not uploaded (actions/upload-artifact)")
    else:
        options = plan_steps[upload].get("with") or {}
        if options.get("name") != PLAN_ARTIFACT:
            problems.append(f"plan job: the artifact must be named {PLAN_ARTIFACT}")
        if options.get("include-hidden-files") is not True:
            problems.append("plan job: upload without include-hidden-files: true loses .terraform.lock.hcl")
        if not isinstance(options.get("retention-days"), int):
            problems.append("plan job: the plan artifact has no retention-days (it would be kept 90 days)")
        if saved is not None and sealed is not None and not saved < sealed < upload:
            problems.append("plan job: the steps must run plan -out, then seal, then upload")
    if "steps.seal.outputs.plan_sha256" not in str((plan.get("outputs") or {}).get("plan_sha256", "")):
        problems.append("plan job: no output plan_sha256 from the seal step (the apply job checks it)")
    return problems


def _writes_plan(args: list[str]) -> bool:
    return any(
        (arg == "-out" and args[i + 1 : i + 2] == [PLAN_FILE]) or arg == f"-out={PLAN_FILE}"
        for i, arg in enumerate(args)
    )


def _runs_script(step: Step, subcommand: str, *required: str) -> bool:
    """The step runs ``scripts/plan-artifact.sh SUBCOMMAND`` and its script names each of ``required``."""
    script = str(step.get("run", ""))
    if not re.search(rf"(^|[\s\"'(])scripts/plan-artifact\.sh {subcommand}\b", script):
        return False
    return all(item in script for item in required)


def _check_apply_job(apply: Job) -> list[str]:
    problems = []
    needs = apply.get("needs")
    if "plan" not in ([needs] if isinstance(needs, str) else list(needs or [])):
        problems.append("apply job: must need the plan job (needs: plan)")
    environment = apply.get("environment")
    name = environment.get("name") if isinstance(environment, dict) else environment
    if name != ENVIRONMENT:
        problems.append(f"apply job: must run in the protected environment {ENVIRONMENT!r} (required reviewers)")
    if apply.get("continue-on-error"):
        problems.append("apply job: continue-on-error")
    if any(terraform_commands(step, "plan") for step in steps(apply)):
        problems.append("apply job: runs terraform plan (it must apply the reviewed plan, not make a new one)")
    return problems + _check_apply_steps(steps(apply))


def _is_rollout(step: Step) -> bool:
    return ["make", "rollout", "STACK=prod"] in list(commands(str(step.get("run", ""))))


def _is_plan_download(step: Step) -> bool:
    return action(step) == "actions/download-artifact" and (step.get("with") or {}).get("name") == PLAN_ARTIFACT


def _check_apply_steps(apply_steps: list[Step]) -> list[str]:
    problems = []
    download = index_of(apply_steps, _is_plan_download)
    verify = index_of(apply_steps, lambda s: _runs_script(s, "verify", "$GITHUB_SHA", "$PLAN_SHA256"))
    credentials = index_of(apply_steps, lambda s: action(s) == ASSUME_ROLE_ACTION)
    applies = [(i, args) for i, step in enumerate(apply_steps) for args in terraform_commands(step, "apply")]
    rollout = index_of(apply_steps, _is_rollout)
    if download is None:
        problems.append(f"apply job: does not download the plan artifact {PLAN_ARTIFACT}")
    if verify is None:
        problems.append(
            "apply job: does not verify commit and checksum "
            '(scripts/plan-artifact.sh verify … "$GITHUB_SHA" "$PLAN_SHA256")'
        )
    elif "needs.plan.outputs.plan_sha256" not in str((apply_steps[verify].get("env") or {}).get("PLAN_SHA256", "")):
        problems.append("apply job: the verify step's PLAN_SHA256 is not the plan job's output plan_sha256")
    if len(applies) != 1:
        problems.append(f"apply job: expected exactly one terraform apply, found {len(applies)}")
    problems += [
        f"apply job: `terraform apply {' '.join(args)}` does not apply the saved plan {PLAN_FILE} alone "
        f"(allowed options: {sorted(APPLY_OPTIONS)})"
        for _, args in applies
        if not args or args[-1] != PLAN_FILE or set(args[:-1]) - APPLY_OPTIONS
    ]
    if rollout is None:
        problems.append("apply job: does not run `make rollout STACK=prod`")
    if applies:
        problems += _check_apply_order(
            apply_steps, download=download, verify=verify, credentials=credentials, at=applies[0][0], rollout=rollout
        )
    for i in (download, verify, credentials, *(i for i, _ in applies), rollout):
        if i is not None and (apply_steps[i].get("continue-on-error") or "if" in apply_steps[i]):
            problems.append(
                f"apply job, step {apply_steps[i].get('name', uses(apply_steps[i]))!r}: has `if:` or "
                "continue-on-error (a failed check must stop the apply)"
            )
    return problems


def _check_apply_order(
    apply_steps: list[Step],
    *,
    download: int | None,
    verify: int | None,
    credentials: int | None,
    at: int,
    rollout: int | None,
) -> list[str]:
    problems = []
    order = [("download", download), ("verify", verify), ("credentials", credentials), ("apply", at)]
    known = [(what, i) for what, i in order if i is not None]
    if [i for _, i in known] != sorted(i for _, i in known) or len({i for _, i in known}) != len(known):
        problems.append(f"apply job: steps out of order {known}: download, verify, assume the role, then apply")
    if rollout is not None and rollout <= at:
        problems.append("apply job: rollout runs before terraform apply")
    if download is not None:
        stack_dir = str((apply_steps[download].get("with") or {}).get("path", "")).rstrip("/") + "/stacks/prod"
        workdir = str(apply_steps[at].get("working-directory", ""))
        if workdir != stack_dir:
            problems.append(f"apply job: terraform apply runs in {workdir!r}, not in the downloaded {stack_dir}")
    return problems


def check_drift(workflow: Workflow) -> list[str]:
    """drift.yml: a scheduled plan of prod whose job fails when the plan has changes."""
    problems = check_common(workflow)
    on = triggers(workflow)
    schedule = on.get("schedule") or []
    if not any(isinstance(entry, dict) and entry.get("cron") for entry in schedule):
        problems.append("drift: no schedule (on: schedule: - cron: …)")
    if "workflow_dispatch" not in on:
        problems.append("drift: cannot be run by hand (workflow_dispatch)")
    found = False
    for job_id, job in jobs(workflow).items():
        for step in steps(job):
            if terraform_commands(step, "apply"):
                problems.append(f"drift job {job_id}: runs terraform apply")
            for args in terraform_commands(step, "plan"):
                if "-detailed-exitcode" not in args:
                    problems.append(f"drift job {job_id}: plan without -detailed-exitcode (cannot tell drift)")
                    continue
                found = True
                script = str(step.get("run", ""))
                if "GITHUB_STEP_SUMMARY" not in script:
                    problems.append(f"drift job {job_id}: the changes are not written to the job summary")
                if not re.search(r"^\s*2\)(?:(?!^\s*\S+\)).)*?exit [1-9]", script, re.MULTILINE | re.DOTALL):
                    problems.append(f"drift job {job_id}: exit status 2 (drift) does not fail the step")
                if step.get("continue-on-error") or job.get("continue-on-error"):
                    problems.append(f"drift job {job_id}: continue-on-error hides the drift")
    if not found:
        problems.append("drift: no terraform plan -detailed-exitcode")
    return problems
