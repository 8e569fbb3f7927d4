"""The restore on a throwaway emulator (seconds): the point-in-time mend restores the moment
asked for, ``python -m restore`` refuses bad input in one line changing nothing, prints its
plan without ``--yes``, and copies back by its rule (missing and older items come back,
newer and newly created ones stay, expired tokens are skipped).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from workspace import emulator
from workspace.paths import PROJECT

TABLE = "tap_stack_local_data"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulator.RunningEmulator]:
    with emulator.temporary(tmp_path_factory.mktemp("restore-emulator")) as found:
        yield found


def _item(key: str, version: int | None = None, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": {"S": key}}
    if version is not None:
        item["version"] = {"N": str(version)}
    item.update({name: {"N": str(v)} if isinstance(v, int) else {"S": v} for name, v in fields.items()})
    return item


@pytest.fixture
def table(running: emulator.RunningEmulator) -> Iterator[Any]:
    db = running.client("dynamodb")
    db.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    db.update_continuous_backups(TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    yield db
    for name in db.list_tables()["TableNames"]:
        db.delete_table(TableName=name)


def _restore(running: emulator.RunningEmulator, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "AWS_"))}
    command = [sys.executable, "-m", "restore", "--env", "local", "--endpoint", running.endpoint, "--table", TABLE]
    return subprocess.run(
        [*command, "--poll-seconds", "0.1", *args],
        cwd=PROJECT,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def _items(db: Any, table: str = TABLE) -> dict[str, dict[str, Any]]:
    return {i["id"]["S"]: i for i in db.scan(TableName=table, ConsistentRead=True)["Items"]}


def _moment() -> datetime:
    """A time strictly between the writes before and after it."""
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    return moment


def test_the_mend_restores_the_moment_asked_for(table: Any) -> None:
    for key in "abc":
        table.put_item(TableName=TABLE, Item=_item(key, 1, prompt=f"{key} as written"))
    moment = _moment()
    table.delete_item(TableName=TABLE, Key={"id": {"S": "a"}})
    table.update_item(
        TableName=TABLE,
        Key={"id": {"S": "b"}},
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    table.put_item(TableName=TABLE, Item=_item("d", 1))
    window = table.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert datetime.now(UTC) - window["PointInTimeRecoveryDescription"]["LatestRestorableDateTime"] < timedelta(
        seconds=5
    )
    table.restore_table_to_point_in_time(SourceTableName=TABLE, TargetTableName="restored", RestoreDateTime=moment)
    assert _items(table, "restored") == {k: _item(k, 1, prompt=f"{k} as written") for k in "abc"}
    assert sorted(_items(table)) == ["b", "c", "d"]
    with pytest.raises(ClientError, match="InvalidRestoreTimeException"):
        table.restore_table_to_point_in_time(
            SourceTableName=TABLE, TargetTableName="later", RestoreDateTime=moment + timedelta(hours=1)
        )


@pytest.mark.parametrize(
    ("to_time", "line"),
    [
        ("2999-01-01T00:00:00Z", "restore: --to-time 2999-01-01T00:00:00.000Z is in the future (now "),
        ("2001-01-01T00:00:00Z", f"restore: --to-time 2001-01-01T00:00:00.000Z is before {TABLE}'s earliest "),
        ("yesterday", "restore: --to-time 'yesterday' is not an ISO 8601 time such as 2026-05-01T12:00:00Z"),
        ("2026-05-01T12:00:00", "restore: --to-time '2026-05-01T12:00:00' has no UTC offset: add Z (UTC) or +HH:MM"),
    ],
)
def test_a_bad_time_is_refused_in_one_line_and_nothing_changes(
    running: emulator.RunningEmulator, table: Any, to_time: str, line: str
) -> None:
    table.put_item(TableName=TABLE, Item=_item("kept", 1))
    before = (table.list_tables()["TableNames"], _items(table))
    result = _restore(running, "--to-time", to_time, "--yes")
    assert result.returncode == 2, result.stdout
    (only,) = result.stderr.splitlines()
    assert only.startswith(line), only
    assert (table.list_tables()["TableNames"], _items(table)) == before


def test_a_table_that_does_not_exist_is_refused(running: emulator.RunningEmulator) -> None:
    result = _restore(running, "--to-time", datetime.now(UTC).isoformat(), "--yes")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"restore: table {TABLE} does not exist here; nothing changed"]
    assert running.client("dynamodb").list_tables()["TableNames"] == []


def test_without_yes_it_prints_the_plan_and_changes_nothing(running: emulator.RunningEmulator, table: Any) -> None:
    table.put_item(TableName=TABLE, Item=_item("x", 1))
    moment = _moment()
    table.delete_item(TableName=TABLE, Key={"id": {"S": "x"}})
    result = _restore(running, "--to-time", moment.isoformat())
    assert result.returncode == 0, result.stderr
    assert "nothing changed; run again with --yes to do it" in result.stdout
    assert table.list_tables()["TableNames"] == [TABLE] and _items(table) == {}


def test_the_copy_back_rule(running: emulator.RunningEmulator, table: Any) -> None:
    future, past = int(time.time()) + 3600, int(time.time()) - 60
    originals = {
        "deleted": _item("deleted", 3, prompt="deleted later"),
        "rewritten": _item("rewritten", 2, prompt="good", updated_at="2026-01-02"),
        "same-version": _item("same-version", 1, prompt="good", updated_at="2026-01-02"),
        "worked-on": _item("worked-on", 1, status="pending"),
        "unversioned": _item("unversioned", 4, prompt="good"),
        "token#live": _item("token#live", expires_at=future),
        "token#expired": _item("token#expired", expires_at=past),
    }
    for item in originals.values():
        table.put_item(TableName=TABLE, Item=item)
    moment = _moment()
    for key in ("deleted", "token#live", "token#expired"):
        table.delete_item(TableName=TABLE, Key={"id": {"S": key}})
    table.put_item(TableName=TABLE, Item=_item("rewritten", 1, prompt="from a stale export"))
    table.put_item(TableName=TABLE, Item=_item("same-version", 1, prompt="bad", updated_at="2026-01-01"))
    table.put_item(TableName=TABLE, Item=_item("worked-on", 2, status="assigned"))
    table.put_item(TableName=TABLE, Item=_item("unversioned", prompt="no version"))
    table.put_item(TableName=TABLE, Item=_item("created-after", 1))

    result = _restore(running, "--to-time", moment.isoformat(), "--yes", "--sample", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    now = _items(table)
    for key in ("deleted", "rewritten", "same-version", "unversioned", "token#live"):
        assert now[key] == originals[key], key
    assert now["worked-on"] == _item("worked-on", 2, status="assigned")
    assert now["created-after"] == _item("created-after", 1)
    assert "token#expired" not in now
    assert "7 read, 5 written back (2 missing, 3 older), 1 kept as live (newer or the same), " in result.stdout
    assert "1 expired tokens skipped" in result.stdout
    assert table.list_tables()["TableNames"] == [TABLE], "the temporary table is deleted"
    for number in range(1, 6):
        assert f"[{number}/5] " in result.stdout


def test_keep_leaves_the_restored_table(running: emulator.RunningEmulator, table: Any) -> None:
    table.put_item(TableName=TABLE, Item=_item("x", 1))
    moment = _moment()
    result = _restore(running, "--to-time", moment.isoformat(), "--yes", "--keep")
    assert result.returncode == 0, result.stderr
    (kept,) = [t for t in table.list_tables()["TableNames"] if t != TABLE]
    assert kept.startswith(f"{TABLE}-restore-") and _items(table, kept) == {"x": _item("x", 1)}
    again = _restore(running, "--to-time", moment.isoformat(), "--yes")
    assert again.returncode == 2
    assert again.stderr.strip().startswith(f"restore: table {kept} exists already")
