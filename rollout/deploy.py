"""The rollout itself: refuse what cannot be rolled out, then ask CodeDeploy to shift the alias.

A rollout moves the function's ``live`` alias from the version it serves (``CurrentVersion``)
to a published one (``TargetVersion``: the latest, or the one asked for) with a Lambda AppSpec
(the shape terraform-aws-modules/lambda's ``modules/deploy`` sends). Everything is checked
before anything is created, so a refused rollout changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rollout.targets import RolloutError, Target

#: Deployment states in which the group is busy: a second rollout is refused.
ACTIVE_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
#: States a deployment ends in.
DONE_STATUSES = {"Succeeded", "Failed", "Stopped"}


class AlreadyLive(RolloutError):
    """The alias already serves the requested version: nothing to do (not an error)."""


@dataclass(frozen=True)
class Plan:
    """What a rollout will do: ``live`` from ``current`` to ``target``."""

    target: Target
    current: str
    version: str

    def appspec(self) -> str:
        """The Lambda AppSpec CodeDeploy runs (JSON)."""
        properties = {
            "Name": self.target.function,
            "Alias": self.target.alias,
            "CurrentVersion": self.current,
            "TargetVersion": self.version,
        }
        resource = {self.target.function: {"Type": "AWS::Lambda::Function", "Properties": properties}}
        return json.dumps({"version": 0.0, "Resources": [resource]}, separators=(",", ":"))


def published_versions(lambda_client: Any, function: str) -> list[int]:
    """The function's numbered versions, oldest first (``$LATEST`` is not one)."""
    found: list[int] = []
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        found.extend(int(v["Version"]) for v in page["Versions"] if v["Version"].isdigit())
    return sorted(found)


def active_deployments(codedeploy: Any, target: Target) -> list[str]:
    """Ids of the group's deployments that have not ended."""
    pages = codedeploy.get_paginator("list_deployments").paginate(
        applicationName=target.app, deploymentGroupName=target.group, includeOnlyStatuses=ACTIVE_STATUSES
    )
    return [deployment for page in pages for deployment in page["deployments"]]


def plan(lambda_client: Any, codedeploy: Any, target: Target, version: int | None) -> Plan:
    """Check everything; raise :class:`RolloutError` (or :class:`AlreadyLive`) before any change."""
    busy = active_deployments(codedeploy, target)
    if busy:
        status = codedeploy.get_deployment(deploymentId=busy[0])["deploymentInfo"]["status"]
        raise RolloutError(
            f"deployment {busy[0]} of {target.app}/{target.group} is still in progress ({status}): wait for it "
            f"or stop it (aws deploy stop-deployment --deployment-id {busy[0]}); nothing changed"
        )
    alias = lambda_client.get_alias(FunctionName=target.function, Name=target.alias)
    current = str(alias["FunctionVersion"])
    shifting = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    if shifting:
        raise RolloutError(
            f"{target.alias} of {target.function} still sends traffic to two versions ({current} and "
            f"{', '.join(shifting)}): a rollout was interrupted; finish or roll it back first"
        )
    versions = published_versions(lambda_client, target.function)
    if not versions:
        raise RolloutError(f"{target.function} has no published version: deploy the stack (publish = true) first")
    wanted = versions[-1] if version is None else version
    if wanted not in versions:
        raise RolloutError(
            f"version {wanted} of {target.function} does not exist (published: {_ranges(versions)}); nothing changed"
        )
    if str(wanted) == current:
        raise AlreadyLive(f"{target.alias} of {target.function} already serves version {wanted}; nothing to roll out")
    return Plan(target, current, str(wanted))


def start(codedeploy: Any, rollout: Plan) -> str:
    """Create the CodeDeploy deployment; its id."""
    content = rollout.appspec()
    revision = {
        "revisionType": "AppSpecContent",
        "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
    }
    created = codedeploy.create_deployment(
        applicationName=rollout.target.app,
        deploymentGroupName=rollout.target.group,
        revision=revision,
        description=f"{rollout.target.function}:{rollout.target.alias} {rollout.current} -> {rollout.version}",
    )
    return str(created["deploymentId"])


def watch(  # noqa: PLR0913 (both clients, the rollout, its deployment and the two timings)
    lambda_client: Any,
    codedeploy: Any,
    rollout: Plan,
    deployment_id: str,
    *,
    poll_seconds: float,
    timeout_seconds: float,
) -> Iterator[tuple[str, str]]:
    """(status, traffic) each time either changes, until the deployment ends or the time is up."""
    started = time.monotonic()
    seen: tuple[str, str] | None = None
    while True:
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        status = str(info["status"])
        now = (status, traffic(lambda_client, rollout))
        if now != seen:
            seen = now
            yield now
        if status in DONE_STATUSES or time.monotonic() - started >= timeout_seconds:
            return
        time.sleep(poll_seconds)


def traffic(lambda_client: Any, rollout: Plan) -> str:
    """Where ``live`` sends requests now, e.g. ``v3 90% / v4 10%``."""
    alias = lambda_client.get_alias(FunctionName=rollout.target.function, Name=rollout.target.alias)
    weights = {str(k): float(v) for k, v in alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}).items()}
    main = f"v{alias['FunctionVersion']}"
    if not weights:
        return f"{main} 100%"
    rest = 1.0 - sum(weights.values())
    return " / ".join([f"{main} {rest:.0%}", *(f"v{v} {w:.0%}" for v, w in weights.items())])


def failure(codedeploy: Any, deployment_id: str) -> str:
    """Why a deployment ended badly, in one line (CodeDeploy's error and rollback messages)."""
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    parts = [info.get("errorInformation", {}).get("message"), info.get("rollbackInfo", {}).get("rollbackMessage")]
    return "; ".join(p for p in parts if p) or f"status {info['status']}"


def _ranges(versions: list[int]) -> str:
    """``1-4, 7`` for [1, 2, 3, 4, 7]."""
    spans: list[list[int]] = []
    for v in versions:
        if spans and v == spans[-1][1] + 1:
            spans[-1][1] = v
        else:
            spans.append([v, v])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
