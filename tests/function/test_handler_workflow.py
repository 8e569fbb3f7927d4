"""claim_task, submit_feedback and release_task: the state machine."""

from __future__ import annotations

import pytest

from tests.function.support import PAST, Api, Aws


def test_claim_next_takes_highest_priority_then_oldest(api: Api, queue_order: None) -> None:
    low = api.create(prompt="low", priority=1)
    old_high = api.create(prompt="old high", priority=8)
    new_high = api.create(prompt="new high", priority=8)
    top = api.create(prompt="top", priority=9)
    order = [api.claim(f"ann-{i}").task["id"] for i in range(4)]
    assert order == [top["id"], old_high["id"], new_high["id"], low["id"]]
    none_left = api.claim("ann-5")
    assert (none_left.status, none_left.error["code"]) == (404, "no_task_available")


def test_claim_sets_assignee_lease_and_index_key(api: Api, aws: Aws) -> None:
    task = api.create()
    claimed = api.claim("ann-1")
    assert claimed.status == 200
    t = claimed.task
    assert (t["id"], t["status"], t["assignee"], t["version"]) == (task["id"], "assigned", "ann-1", 2)
    assert aws.raw_item(task["id"])["queue_key"]["S"] == f"{t['lease_expires_at']}#{t['id']}"
    assert "queue_key" not in t


def test_claim_by_id(api: Api) -> None:
    first, second = api.create(), api.create()
    response = api.claim("ann-1", second["id"])
    assert response.status == 200 and response.task["id"] == second["id"]
    assert api.call("get_task", task_id=first["id"]).task["status"] == "pending"


def test_claim_of_a_task_held_by_someone_else_is_409(api: Api) -> None:
    task = api.create()
    held = api.claim("ann-1", task["id"]).task
    response = api.claim("ann-2", task["id"])
    assert (response.status, response.error["code"]) == (409, "task_assigned")
    assert held["lease_expires_at"] in response.error["message"]
    assert api.call("get_task", task_id=task["id"]).task["assignee"] == "ann-1"


def test_reclaim_by_the_holder_renews_the_lease(api: Api) -> None:
    task = api.create()
    first = api.claim("ann-1", task["id"]).task
    again = api.claim("ann-1", task["id"]).task
    assert again["assignee"] == "ann-1" and again["version"] == first["version"] + 1
    assert again["lease_expires_at"] >= first["lease_expires_at"]


def test_expired_lease_can_be_claimed_by_id_and_by_the_queue(api: Api, aws: Aws) -> None:
    by_id, by_queue = api.create(), api.create()
    api.claim("ann-1", by_id["id"])
    api.claim("ann-1", by_queue["id"])
    assert api.claim("ann-2").status == 404  # nothing pending, no lease expired yet
    aws.expire_lease(by_id["id"])
    aws.expire_lease(by_queue["id"])
    taken = api.claim("ann-2", by_id["id"])
    assert taken.status == 200 and taken.task["assignee"] == "ann-2" and taken.task["lease_expires_at"] > PAST
    from_queue = api.claim("ann-3")
    assert from_queue.status == 200 and from_queue.task["id"] == by_queue["id"]
    assert from_queue.task["assignee"] == "ann-3"
    # The previous holder lost it.
    late = api.call("release_task", task_id=by_queue["id"], annotator_id="ann-1")
    assert (late.status, late.error["code"]) == (409, "task_assigned")


def test_pending_tasks_go_before_expired_leases(api: Api, aws: Aws) -> None:
    expired = api.create(priority=9)
    api.claim("ann-1", expired["id"])
    aws.expire_lease(expired["id"])
    pending = api.create(priority=0)
    assert api.claim("ann-2").task["id"] == pending["id"]
    assert api.claim("ann-3").task["id"] == expired["id"]


def test_claim_validation(api: Api) -> None:
    assert api.call("claim_task").error["code"] == "missing_field"
    too_long = api.claim("a" * 129)
    assert too_long.status == 400 and "annotator_id must be 1 to 128 characters (got 129)" in too_long.error["message"]
    assert api.claim("a" * 128).status == 404  # valid, just nothing to claim
    assert api.claim("").status == 400
    missing = api.claim("ann", "00000000-0000-4000-8000-000000000000")
    assert (missing.status, missing.error["code"]) == (404, "task_not_found")


@pytest.mark.parametrize(
    ("kind", "responses", "feedback"),
    [
        ("pairwise", ["a", "b"], {"preferred": 1}),
        ("pairwise", ["a", "b", "c"], {"preferred": 2, "rationale": "c is kinder"}),
        ("ranking", ["a", "b", "c"], {"ranking": [2, 0, 1], "rationale": ""}),
        ("rating", ["a", "b", "c", "d"], {"ratings": [1, 7, 4, 4]}),
    ],
)
def test_submit_completes_the_task(api: Api, aws: Aws, kind: str, responses: list[str], feedback: dict) -> None:
    task = api.create(kind=kind, responses=responses)
    api.claim("ann-1", task["id"])
    response = api.call("submit_feedback", task_id=task["id"], annotator_id="ann-1", feedback=feedback)
    assert response.status == 200, response.body
    done = response.task
    assert done["status"] == "completed" and done["feedback"] == feedback and done["assignee"] == "ann-1"
    assert "lease_expires_at" not in done and done["completed_at"] == done["updated_at"]
    assert aws.raw_item(task["id"])["queue_key"]["S"] == f"{done['completed_at']}#{task['id']}"
    assert [t["id"] for t in api.call("list_tasks", status="completed").body["tasks"]] == [task["id"]]


def test_submit_state_errors(api: Api) -> None:
    task = api.create()
    fields = {"task_id": task["id"], "feedback": {"preferred": 0}}
    unclaimed = api.call("submit_feedback", annotator_id="ann-1", **fields)
    assert (unclaimed.status, unclaimed.error["code"]) == (409, "task_not_claimed")
    api.claim("ann-1", task["id"])
    other = api.call("submit_feedback", annotator_id="ann-2", **fields)
    assert (other.status, other.error["code"]) == (409, "task_assigned")
    assert api.call("submit_feedback", annotator_id="ann-1", **fields).status == 200
    twice = api.call("submit_feedback", annotator_id="ann-1", **fields)
    assert (twice.status, twice.error["code"]) == (409, "task_completed")
    assert "already completed" in twice.error["message"]
    for action, extra in (("claim_task", {}), ("release_task", {})):
        response = api.call(action, task_id=task["id"], annotator_id="ann-1", **extra)
        assert (response.status, response.error["code"]) == (409, "task_completed"), action
    missing = api.call(
        "submit_feedback",
        task_id="00000000-0000-4000-8000-000000000000",
        annotator_id="ann-1",
        feedback={"preferred": 0},
    )
    assert (missing.status, missing.error["code"]) == (404, "task_not_found")


@pytest.mark.parametrize(
    ("kind", "responses", "feedback", "message"),
    [
        (
            "pairwise",
            ["a", "b"],
            {"ranking": [0, 1]},
            "feedback.ranking does not fit task {id}: it is a pairwise task; send feedback.preferred",
        ),
        ("ranking", ["a", "b"], {"ratings": [1, 2]}, "it is a ranking task; send feedback.ranking"),
        ("rating", ["a", "b"], {"preferred": 0}, "it is a rating task; send feedback.ratings"),
        ("pairwise", ["a", "b"], {"preferred": 2}, "feedback.preferred must be a response index 0..1 (got 2)"),
        (
            "ranking",
            ["a", "b", "c"],
            {"ranking": [1, 0]},
            "feedback.ranking must have exactly 3 entries, one per response of task {id} (got 2)",
        ),
        ("rating", ["a", "b"], {"ratings": [3, 3, 3]}, "feedback.ratings must have exactly 2 entries"),
    ],
)
def test_submit_feedback_must_fit_the_task(
    api: Api, kind: str, responses: list[str], feedback: dict, message: str
) -> None:
    task = api.create(kind=kind, responses=responses)
    api.claim("ann-1", task["id"])
    response = api.call("submit_feedback", task_id=task["id"], annotator_id="ann-1", feedback=feedback)
    assert (response.status, response.error["code"]) == (400, "invalid_field")
    assert message.format(id=task["id"]) in response.error["message"]
    assert api.call("get_task", task_id=task["id"]).task["status"] == "assigned"


@pytest.mark.parametrize(
    ("feedback", "fragment"),
    [
        ({}, "feedback must contain exactly one of preferred (pairwise), ranking (ranking), ratings (rating)"),
        ({"preferred": 0, "ranking": [0, 1]}, "(got preferred, ranking)"),
        ({"preferred": -1}, "feedback.preferred must be between 0 and 7 (got -1)"),
        ({"preferred": "0"}, "feedback.preferred must be an integer (got string)"),
        ({"ranking": [0, 0]}, "feedback.ranking must be a permutation of the response indexes 0..1 (got [0, 0])"),
        ({"ranking": [1, 2]}, "must be a permutation"),
        ({"ranking": [0]}, "feedback.ranking must be a list of 2 to 8 integers (got 1 items)"),
        ({"ratings": [0, 3]}, "feedback.ratings[0] must be between 1 and 7 (got 0)"),
        ({"ratings": [3, 8]}, "feedback.ratings[1] must be between 1 and 7 (got 8)"),
        ({"ratings": [3, 2.5]}, "feedback.ratings[1] must be an integer (got number)"),
        ({"preferred": 0, "rationale": "r" * 5_001}, "feedback.rationale must be 0 to 5000 characters (got 5001)"),
        ({"preferred": 0, "confidence": 1}, "unknown field(s) in feedback: confidence"),
        ("left", "feedback must be an object"),
    ],
)
def test_submit_validates_feedback_before_touching_the_table(api: Api, feedback: object, fragment: str) -> None:
    response = api.call(
        "submit_feedback", task_id="00000000-0000-4000-8000-000000000000", annotator_id="ann", feedback=feedback
    )
    assert response.status == 400  # not 404: the request itself is wrong
    assert fragment in response.error["message"]


def test_release_returns_the_task_to_its_place_in_the_queue(api: Api, aws: Aws, queue_order: None) -> None:
    first = api.create(priority=7)
    second = api.create(priority=7)
    api.claim("ann-1", first["id"])
    released = api.call("release_task", task_id=first["id"], annotator_id="ann-1")
    assert released.status == 200
    t = released.task
    assert t["status"] == "pending" and "assignee" not in t and "lease_expires_at" not in t and t["version"] == 3
    assert aws.raw_item(first["id"])["queue_key"]["S"] == f"2#{first['created_at']}#{first['id']}"
    assert api.claim("ann-2").task["id"] == first["id"]  # still ahead of the newer task
    assert api.claim("ann-3").task["id"] == second["id"]


def test_release_state_errors(api: Api) -> None:
    task = api.create()
    pending = api.call("release_task", task_id=task["id"], annotator_id="ann-1")
    assert (pending.status, pending.error["code"]) == (409, "task_not_claimed")
    api.claim("ann-1", task["id"])
    other = api.call("release_task", task_id=task["id"], annotator_id="ann-2")
    assert (other.status, other.error["code"]) == (409, "task_assigned")
    missing = api.call("release_task", task_id="00000000-0000-4000-8000-000000000000", annotator_id="ann-1")
    assert (missing.status, missing.error["code"]) == (404, "task_not_found")
    assert api.call("release_task", task_id=task["id"]).error["code"] == "missing_field"
