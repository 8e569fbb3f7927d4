"""Fixtures for the handler tests: moto in-process, the real handler, real clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from function import model, settings
from tests.function.support import API_KEY, BUCKET, OTHER_KEY, SECRET, TABLE, Api, Aws, contract, handler
from tests.function.table_from_stack import REFERENCE_TABLE, create_table_kwargs

_AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
)


@pytest.fixture(autouse=True)
def function_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The Lambda's environment, with no way to reach a real AWS account or a
    local emulator someone left configured; and a fresh container per test."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(contract.TABLE_ENV, TABLE)
    monkeypatch.setenv(contract.LOG_BUCKET_ENV, BUCKET)
    monkeypatch.setenv(contract.API_KEY_SECRET_ENV, SECRET)
    handler.reset_caches()
    yield
    handler.reset_caches()


@pytest.fixture
def table_resource() -> dict[str, Any]:
    """The Terraform ``aws_dynamodb_table`` resource the test table is built
    from; test_stack_drift.py overrides it with the synthesized stack's."""
    return REFERENCE_TABLE


@pytest.fixture
def aws(table_resource: dict[str, Any]) -> Iterator[Aws]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**create_table_kwargs(table_resource, TABLE))
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        secretsmanager = boto3.client("secretsmanager")
        secretsmanager.create_secret(Name=SECRET, SecretString=json.dumps({"api_keys": [API_KEY, OTHER_KEY]}))
        yield Aws(dynamodb, s3, secretsmanager)


@pytest.fixture
def api(aws: Aws) -> Api:
    return Api()


@pytest.fixture
def one_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole queue in one shard (tasks created from here on): a claim's Query reads the
    queue's head, whatever the spread (docs/api.md, "Races")."""
    monkeypatch.setattr(model, "QUEUE_SHARDS", 1)


@pytest.fixture
def queue_order(one_shard: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """One shard read one candidate at a time: claims take tasks in the queue's own order
    (priority, then age), so a test can check that order."""
    monkeypatch.setattr(settings, "CLAIM_CANDIDATES", 1)
