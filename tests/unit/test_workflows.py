"""The GitHub Actions workflows: the rules of workflow_checks.py, and each rule seen failing.

The real workflows must pass every rule. Each case of ``test_a_broken_copy_is_rejected``
breaks one thing in a parsed copy of a workflow and checks that the rules report exactly
that, so a rule that can never fail would show up here.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit import workflow_checks as wc
from tests.unit.workflow_checks import Job, Step, Workflow

CHECKS: dict[str, Callable[[Workflow], list[str]]] = {
    "ci.yml": wc.check_common,
    "deploy.yml": wc.check_deploy,
    "drift.yml": wc.check_drift,
}


def test_every_workflow_is_checked() -> None:
    on_disk = {path.name for path in wc.WORKFLOWS.glob("*.y*ml")}
    assert on_disk == set(CHECKS), "add a check for each new workflow to CHECKS"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_workflow_follows_the_rules(name: str) -> None:
    assert CHECKS[name](wc.load(name)) == []


# --- helpers to break a copy ------------------------------------------------------------------


def job(workflow: Workflow, job_id: str) -> Job:
    found: Job = workflow["jobs"][job_id]
    return found


def step(workflow: Workflow, job_id: str, predicate: Callable[[Step], bool]) -> Step:
    return next(s for s in job(workflow, job_id)["steps"] if predicate(s))


def step_index(workflow: Workflow, job_id: str, predicate: Callable[[Step], bool]) -> int:
    return next(i for i, s in enumerate(job(workflow, job_id)["steps"]) if predicate(s))


def runs(text: str) -> Callable[[Step], bool]:
    return lambda s: text in str(s.get("run", ""))


def uses(action: str) -> Callable[[Step], bool]:
    return lambda s: str(s.get("uses", "")).startswith(action + "@")


def set_run(workflow: Workflow, job_id: str, text: str, new: str) -> None:
    target = step(workflow, job_id, runs(text))
    target["run"] = str(target["run"]).replace(text, new)


def drop_step(workflow: Workflow, job_id: str, predicate: Callable[[Step], bool]) -> None:
    del job(workflow, job_id)["steps"][step_index(workflow, job_id, predicate)]


def move_step(workflow: Workflow, job_id: str, predicate: Callable[[Step], bool], to: int) -> None:
    all_steps = job(workflow, job_id)["steps"]
    all_steps.insert(to, all_steps.pop(step_index(workflow, job_id, predicate)))


def unpin(workflow: Workflow) -> None:
    step(workflow, "apply", uses("actions/download-artifact"))["uses"] = "actions/download-artifact@v4"


def short_sha(workflow: Workflow) -> None:
    step(workflow, "plan", uses("actions/checkout"))["uses"] = "actions/checkout@11bd719"


def add_trigger(workflow: Workflow, event: str) -> None:
    key = "on" if "on" in workflow else True
    workflow[key][event] = None


def set_key(path: tuple[str, ...], value: Any) -> Callable[[Workflow], None]:
    def mutate(workflow: Workflow) -> None:
        target = workflow
        keys: list[Any] = list(path)
        if keys[0] == "on" and "on" not in workflow:
            keys[0] = True  # YAML 1.1 reads the key `on` as True
        for key in keys[:-1]:
            target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value

    return mutate


DELETE = object()
APPLY = "terraform apply -input=false -no-color tfplan"
VERIFY = 'scripts/plan-artifact.sh verify cdktf.out "$GITHUB_SHA" "$PLAN_SHA256"'

#: (workflow, what is broken, how, a phrase the report must contain)
BROKEN: list[tuple[str, str, Callable[[Workflow], None], str]] = [
    # pins
    ("deploy.yml", "action pinned to a tag", unpin, "'actions/download-artifact@v4' is not pinned"),
    ("deploy.yml", "action pinned to a short SHA", short_sha, "is not pinned to a 40-hex"),
    ("drift.yml", "credentials action on a branch",
     lambda w: step(w, "drift", uses(wc.ASSUME_ROLE_ACTION)).update(uses=wc.ASSUME_ROLE_ACTION + "@main"),
     "is not pinned"),
    ("ci.yml", "ci action on a tag",
     lambda w: step(w, "ci", uses("actions/setup-python")).update(uses="actions/setup-python@v5"), "is not pinned"),
    # triggers, checkout, injection
    ("deploy.yml", "pull_request_target", lambda w: add_trigger(w, "pull_request_target"), "pull_request_target"),
    ("ci.yml", "pull_request_target in ci", lambda w: add_trigger(w, "pull_request_target"), "pull_request_target"),
    ("deploy.yml", "deploys on pull requests", lambda w: add_trigger(w, "pull_request"), "other events"),
    ("deploy.yml", "deploys from any branch", set_key(("on", "push", "branches"), ["*"]), "push to main"),
    ("deploy.yml", "checkout keeps the token",
     lambda w: step(w, "apply", uses("actions/checkout"))["with"].pop("persist-credentials"), "persist-credentials"),
    ("deploy.yml", "expression inside run",
     lambda w: set_run(w, "apply", "make rollout STACK=prod", "make rollout STACK=${{ github.event.inputs.stack }}"),
     "script injection"),
    # permissions
    ("deploy.yml", "id-token for the whole workflow", set_key(("permissions",), {"id-token": "write"}),
     "workflow: id-token: write without assuming an AWS role"),
    ("deploy.yml", "write-all", set_key(("jobs", "apply", "permissions"), "write-all"), "grants every scope"),
    ("deploy.yml", "contents: write on apply", set_key(("jobs", "apply", "permissions", "contents"), "write"),
     "contents: write"),
    ("deploy.yml", "no permissions block", set_key(("permissions",), DELETE), "no permissions block"),
    ("ci.yml", "id-token on a job that assumes no role", set_key(("jobs", "ci", "permissions"),
     {"contents": "read", "id-token": "write"}), "job ci: id-token: write without assuming"),
    ("drift.yml", "role without id-token", set_key(("jobs", "drift", "permissions", "id-token"), "none"),
     "does not ask for id-token: write"),
    # deploy: concurrency
    ("deploy.yml", "no concurrency group", set_key(("concurrency",), DELETE), "no concurrency group"),
    ("deploy.yml", "cancels a running deploy", set_key(("concurrency", "cancel-in-progress"), True),
     "cancel-in-progress: false"),
    # deploy: plan job
    ("deploy.yml", "plan not saved",
     lambda w: set_run(w, "plan", "-detailed-exitcode -out tfplan", "-detailed-exitcode"), "-out tfplan"),
    ("deploy.yml", "plan saved under another name", lambda w: set_run(w, "plan", "-out tfplan", "-out other.plan"),
     "-out tfplan"),
    ("deploy.yml", "plan job applies", lambda w: set_run(w, "plan", "terraform init -input=false -no-color",
     "terraform init -input=false -no-color\nterraform apply -auto-approve"), "plan job: runs terraform apply"),
    ("deploy.yml", "plan not shown for review",
     lambda w: set_run(w, "plan", '>> "$GITHUB_STEP_SUMMARY"', "> /dev/null"), "not written to the job summary"),
    ("deploy.yml", "plan not sealed", lambda w: drop_step(w, "plan", runs("plan-artifact.sh seal")), "not sealed"),
    ("deploy.yml", "plan not uploaded",
     lambda w: drop_step(w, "plan", uses("actions/upload-artifact")), "not uploaded"),
    ("deploy.yml", "lock file left out of the artifact",
     lambda w: step(w, "plan", uses("actions/upload-artifact"))["with"].pop("include-hidden-files"),
     "include-hidden-files"),
    ("deploy.yml", "artifact kept 90 days",
     lambda w: step(w, "plan", uses("actions/upload-artifact"))["with"].pop("retention-days"), "retention-days"),
    ("deploy.yml", "uploaded before sealing",
     lambda w: move_step(w, "plan", uses("actions/upload-artifact"), 0), "plan -out, then seal, then upload"),
    ("deploy.yml", "no checksum output", set_key(("jobs", "plan", "outputs"), {"changes": "x"}), "output plan_sha256"),
    # deploy: apply job
    ("deploy.yml", "apply without review", set_key(("jobs", "apply", "environment"), DELETE), "protected environment"),
    ("deploy.yml", "apply in another environment", set_key(("jobs", "apply", "environment"), "staging"),
     "protected environment"),
    ("deploy.yml", "apply not after plan", set_key(("jobs", "apply", "needs"), DELETE), "needs: plan"),
    ("deploy.yml", "plan artifact not downloaded",
     lambda w: drop_step(w, "apply", uses("actions/download-artifact")), "does not download"),
    ("deploy.yml", "another artifact downloaded",
     lambda w: step(w, "apply", uses("actions/download-artifact"))["with"].update(name="other"), "does not download"),
    ("deploy.yml", "plan not verified", lambda w: drop_step(w, "apply", runs("plan-artifact.sh verify")),
     "does not verify commit and checksum"),
    ("deploy.yml", "commit not checked", lambda w: set_run(w, "apply", VERIFY,
     'scripts/plan-artifact.sh verify cdktf.out "$(cat cdktf.out/plan-manifest.txt)" "$PLAN_SHA256"'),
     "does not verify commit and checksum"),
    ("deploy.yml", "checksum not the plan job's",
     lambda w: step(w, "apply", runs("plan-artifact.sh verify"))["env"].update(PLAN_SHA256="${{ github.sha }}"),
     "not the plan job's output"),
    ("deploy.yml", "verify after apply", lambda w: move_step(w, "apply", runs("plan-artifact.sh verify"), 99),
     "out of order"),
    ("deploy.yml", "verify failure ignored",
     lambda w: step(w, "apply", runs("plan-artifact.sh verify")).update({"continue-on-error": True}),
     "a failed check must stop the apply"),
    ("deploy.yml", "apply runs even if verify failed",
     lambda w: step(w, "apply", runs(APPLY)).update({"if": "always()"}), "a failed check must stop the apply"),
    ("deploy.yml", "apply re-plans with -auto-approve",
     lambda w: set_run(w, "apply", APPLY, "terraform apply -input=false -no-color -auto-approve"),
     "does not apply the saved plan"),
    ("deploy.yml", "-auto-approve beside the plan file",
     lambda w: set_run(w, "apply", APPLY, "terraform apply -auto-approve tfplan"), "does not apply the saved plan"),
    ("deploy.yml", "a -var next to the plan",
     lambda w: set_run(w, "apply", APPLY, "terraform apply -var tags={} tfplan"), "does not apply the saved plan"),
    ("deploy.yml", "another plan file applied",
     lambda w: set_run(w, "apply", APPLY, "terraform apply -input=false other.tfplan"),
     "does not apply the saved plan"),
    ("deploy.yml", "a new plan made in the apply job",
     lambda w: set_run(w, "apply", APPLY, "terraform plan -out tfplan\n" + APPLY), "apply job: runs terraform plan"),
    ("deploy.yml", "no apply at all", lambda w: set_run(w, "apply", APPLY, "true"), "exactly one terraform apply"),
    ("deploy.yml", "applied outside the verified folder",
     lambda w: step(w, "apply", runs(APPLY)).update({"working-directory": "elsewhere"}), "not in the downloaded"),
    ("deploy.yml", "no rollout", lambda w: drop_step(w, "apply", runs("make rollout")), "make rollout STACK=prod"),
    ("deploy.yml", "rollout before apply", lambda w: move_step(w, "apply", runs("make rollout"), 0),
     "rollout runs before terraform apply"),
    ("deploy.yml", "credentials before the check",
     lambda w: move_step(w, "apply", uses(wc.ASSUME_ROLE_ACTION), 0), "out of order"),
    # drift
    ("drift.yml", "no schedule", lambda w: w["on" if "on" in w else True].pop("schedule"), "no schedule"),
    ("drift.yml", "not by hand",
     lambda w: w["on" if "on" in w else True].pop("workflow_dispatch"), "workflow_dispatch"),
    ("drift.yml", "plan without -detailed-exitcode",
     lambda w: set_run(w, "drift", "-detailed-exitcode ", ""), "without -detailed-exitcode"),
    ("drift.yml", "drift does not fail the job",
     lambda w: set_run(w, "drift", "exit 1\n", "true\n"),
     "does not fail the step"),
    ("drift.yml", "drift failure ignored",
     lambda w: job(w, "drift").update({"continue-on-error": True}), "continue-on-error hides the drift"),
    ("drift.yml", "drift not in the summary",
     lambda w: set_run(w, "drift", "GITHUB_STEP_SUMMARY", "RUNNER_TEMP"), "not written to the job summary"),
    ("drift.yml", "drift check applies", lambda w: set_run(w, "drift", "terraform init -input=false -no-color",
     "terraform init -input=false -no-color\nterraform apply -auto-approve"), "runs terraform apply"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "mutate", "expected"), [(n, m, e) for n, _, m, e in BROKEN],
                         ids=[f"{n}: {what}" for n, what, _, _ in BROKEN])  # fmt: skip
def test_a_broken_copy_is_rejected(name: str, mutate: Callable[[Workflow], None], expected: str) -> None:
    broken = copy.deepcopy(wc.load(name))
    mutate(broken)
    problems = CHECKS[name](broken)
    assert any(expected in problem for problem in problems), f"expected a problem with {expected!r}, got {problems}"


# --- the IAM policies docs/ci.md tells the operator to create ---------------------------------

IAM = wc.WORKFLOWS.parents[1] / "docs" / "iam"
#: IAM's size limits, in characters without white space: a role trust policy (default quota),
#: a customer managed policy, and all inline policies of one role together.
TRUST_LIMIT, MANAGED_LIMIT, INLINE_LIMIT = 2048, 6144, 10240


def policy(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((IAM / name).read_text())
    return loaded


def size(name: str) -> int:
    return len(re.sub(r"\s", "", (IAM / name).read_text()))


def test_trust_policies_admit_only_this_repository() -> None:
    deploy = policy("deploy-trust-policy.json")["Statement"]
    assert len(deploy) == 1
    assert deploy[0]["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:OWNER/REPO:environment:production",
    }
    plan = policy("plan-trust-policy.json")["Statement"]
    assert len(plan) == 1
    subjects = plan[0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert sorted(subjects) == ["repo:OWNER/REPO:pull_request", "repo:OWNER/REPO:ref:refs/heads/main"]
    assert size("deploy-trust-policy.json") <= TRUST_LIMIT
    assert size("plan-trust-policy.json") <= TRUST_LIMIT


def test_permission_policies_fit_and_never_allow_everything() -> None:
    assert size("plan-role-policy.json") <= MANAGED_LIMIT
    assert size("deploy-role-policy.json") <= INLINE_LIMIT
    for name in ("plan-role-policy.json", "deploy-role-policy.json"):
        for statement in policy(name)["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), (name, statement["Sid"])
    plan_allows = [s for s in policy("plan-role-policy.json")["Statement"] if s["Effect"] == "Allow"]
    assert {a for s in plan_allows for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])} == {
        "s3:GetObject",
        "s3:ListBucket",
    }, "the plan role writes nothing (not even the lock: plans run with -lock=false)"
