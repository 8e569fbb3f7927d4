"""boto3 clients for the emulator: dummy credentials, its region, few retries, short timeouts."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

REGION = "us-west-2"
#: The emulator accepts any credentials; these keep boto3 and Terraform away from real ones.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}

_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
    s3={"addressing_style": "path"},
)


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for ``service`` on the emulator at ``endpoint`` (``http://127.0.0.1:PORT``)."""
    session = boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(service, endpoint_url=endpoint, config=_CONFIG)  # type: ignore[call-overload]  # stubs type each service by a literal name
