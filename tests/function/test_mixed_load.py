"""1,000 clients mixing every action at once: no 5xx, and every created task exported exactly
once with the feedback it was given (testkit/mixed_load.py has the roles and the checks).

The handler runs unchanged on moto, with each DynamoDB operation made atomic by one lock
(``atomic_dynamodb``), as the real service is per item. 1,000 client threads share 10
warm containers (``Runtime``): one per client would prove nothing more, since what keeps
tasks from being lost or doubled is the conditional writes.
Timing and latency are bench/mixed_load.py's (docs/capacity.md), never asserted here.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from testkit.mixed_load import Mix, Outcome, atomic_dynamodb, in_process, run
from tests.function.support import API_KEY, Aws, handler

CONTAINERS = 10
ACTIONS = {"create_task", "get_task", "list_tasks", "claim_task", "submit_feedback", "release_task"}


def _run(mix: Mix) -> Outcome:
    containers = [handler.Runtime(handler.s.Settings.from_env()) for _ in range(CONTAINERS)]
    with atomic_dynamodb():
        return run(mix, in_process(containers, API_KEY))


@pytest.mark.slow
def test_a_thousand_clients_lose_nothing_and_get_no_5xx(aws: Aws) -> None:
    mix = Mix(clients=1000, tasks=300, max_seconds=300)
    outcome = _run(mix)
    assert outcome.problems() == []
    assert (mix.producers, mix.annotators, mix.viewers) == (100, 850, 50)
    assert {action for action, _ in outcome.statuses()} == ACTIONS
    assert len(outcome.created) == len(outcome.exported) == 300
    assert all(task["status"] == "completed" for task in outcome.exported)


def test_the_check_names_a_lost_task_a_doubled_one_a_5xx_and_a_wrong_feedback(aws: Aws) -> None:
    outcome = _run(Mix(clients=12, tasks=6, seed=3))
    assert outcome.problems() == []
    first, second, *rest = outcome.exported
    broken = replace(
        outcome,
        records=[*outcome.records, ("claim_task", 503, 1.0)],
        exported=[first, first, {**second, "feedback": {"preferred": 0}}, *rest[1:]],
    )
    problems = broken.problems()
    assert problems[0] == "answers 5xx (or none): {('claim_task', 503): 1}"
    assert problems[1] == f"1 tasks exported more than once, e.g. {first['id']}"
    assert problems[2] == f"1 created tasks missing from the export, e.g. {rest[0]['id']}"
    assert problems[3] == f"1 exported tasks without the feedback submitted, e.g. {second['id']}"
    assert len(problems) == 4
