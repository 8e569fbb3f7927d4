"""A table deployed before the queue shards: its pending tasks stay claimable, and
``python -m backfill`` gives them their shard, once, with nothing lost (against moto).

The tasks of the earlier version are the handler's own tasks with ``queue_shard`` removed:
that attribute is the only thing the earlier version did not write.
"""

from __future__ import annotations

import pytest

from backfill.cli import main
from function import model
from tests.function.support import TABLE, Api, Aws


def _strip_shards(aws: Aws, ids: list[str]) -> None:
    for task_id in ids:
        aws.dynamodb.update_item(TableName=TABLE, Key={"id": {"S": task_id}}, UpdateExpression="REMOVE queue_shard")


def _shard(aws: Aws, task_id: str) -> str | None:
    item = aws.raw_item(task_id) or {}
    return item["queue_shard"]["S"] if "queue_shard" in item else None


def test_tasks_stored_before_the_shards_are_claimed_and_the_backfill_gives_them_their_shard(
    api: Api, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    old = [api.create(prompt=f"old {i}")["id"] for i in range(6)]
    assigned, done = old[4], old[5]
    assert api.claim("ann", assigned).status == 200
    assert api.claim("ann", done).status == 200
    feedback = {"preferred": 0}
    assert api.call("submit_feedback", task_id=done, annotator_id="ann", feedback=feedback).status == 200
    _strip_shards(aws, old[:4])
    # Before the backfill every shard is empty, so a claim reads the head of the queue.
    early = api.claim("early").task["id"]
    assert early in old[:4]
    waiting = [t for t in old[:4] if t != early]
    new = api.create(prompt="new")["id"]
    capsys.readouterr()
    assert main(["--env", "prod", "--table", TABLE]) == 0
    assert capsys.readouterr().out == (
        f"backfill: {TABLE}: 3 pending task(s) given their queue shard, 1 already in one or claimed since\n"
    )
    for task_id in [*waiting, new]:
        assert _shard(aws, task_id) == model.queue_shard(task_id)
    assert [_shard(aws, t) for t in (early, assigned, done)] == [None, None, None]
    assert aws.raw_item(done)["status"]["S"] == "completed"  # nothing else touched
    assert main(["--env", "prod", "--table", TABLE]) == 0  # safe to repeat: nothing left to give
    assert capsys.readouterr().out == (
        f"backfill: {TABLE}: 0 pending task(s) given their queue shard, 4 already in one or claimed since\n"
    )
    claimed = {api.claim(f"ann-{i}").task["id"] for i in range(4)}
    assert claimed == {*waiting, new}  # each claimed once, none lost
    assert api.claim("late").status == 404


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "prod", "--endpoint", "http://127.0.0.1:1"], "--endpoint is for the local stack only, not prod"),
        (["--env", "prod", "--table", "no-such-table"], "DescribeTable: ResourceNotFoundException"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    aws: Aws, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = aws.dynamodb.scan(TableName=TABLE)["Items"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("backfill: ") and message in err, err
    assert aws.dynamodb.scan(TableName=TABLE)["Items"] == before
