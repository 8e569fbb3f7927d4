"""Terraform state files (a file or an S3 object): reading one without changing it, checking
it is a whole state the local Terraform can use, writing and backing one up.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from migration.errors import CannotJudge

#: The state format every Terraform since 0.12 writes.
STATE_FORMAT = 4
_MISSING_CODES = ("NoSuchKey", "404", "NotFound")
_DENIED_CODES = ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken")
_S3_URL = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")


@dataclass(frozen=True)
class StateLocation:
    """A state file on disk, or an S3 object (on AWS, or on an emulator when ``endpoint`` is set)."""

    path: Path | None = None
    bucket: str = ""
    key: str = ""
    region: str = "us-west-2"
    endpoint: str | None = None

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else f"s3://{self.bucket}/{self.key}"


def parse_location(text: str, region: str, endpoint: str | None) -> StateLocation:
    """``s3://bucket/key`` or a file path."""
    if text.startswith("s3://"):
        match = _S3_URL.match(text)
        if not match:
            raise CannotJudge(f"{text} is not an S3 URL of a state object", "write it as s3://BUCKET/KEY")
        return StateLocation(bucket=match["bucket"], key=match["key"], region=region, endpoint=endpoint)
    if "://" in text:
        raise CannotJudge(f"{text} is neither a file nor an s3:// URL", "download the state and pass the file")
    return StateLocation(path=Path(text))


def _s3(location: StateLocation) -> Any:
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)
    # An emulator gets dummy credentials: they open nothing on AWS.
    dummy = "test" if location.endpoint else None
    session = boto3.session.Session(aws_access_key_id=dummy, aws_secret_access_key=dummy, region_name=location.region)
    if not location.endpoint and session.get_credentials() is None:
        raise CannotJudge(
            f"no AWS credentials to read or write {location}",
            "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or download the state and pass the file",
        )
    return session.client("s3", endpoint_url=location.endpoint, config=config)


def _code(exc: Exception) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


def _s3_failure(exc: Exception, location: StateLocation, doing: str) -> CannotJudge:
    code = _code(exc)
    if isinstance(exc, EndpointConnectionError):
        what, todo = f"cannot reach S3 to {doing} {location}", "check the network (and the emulator, if any)"
    elif code in _MISSING_CODES:
        what, todo = f"there is no state at {location}", "check the bucket and key (terraform init shows them)"
    elif code == "NoSuchBucket":
        what, todo = f"the bucket of {location} does not exist", "check the bucket name and region"
    elif code in _DENIED_CODES:
        what, todo = f"access denied to {doing} {location} ({code})", "use credentials allowed to do that"
    elif code:
        what, todo = f"S3 refused to {doing} {location}: {code}", "check the bucket, key and credentials"
    else:
        what, todo = f"could not {doing} {location}: {exc}", "check the bucket, key, network and credentials"
    return CannotJudge(what, todo)


def _s3_get(location: StateLocation) -> bytes | None:
    """The object's bytes, or None when there is no such object."""
    client = _s3(location)
    try:
        return bytes(client.get_object(Bucket=location.bucket, Key=location.key)["Body"].read())
    except (ClientError, BotoCoreError) as exc:
        if _code(exc) in _MISSING_CODES:
            return None
        raise _s3_failure(exc, location, "read") from None


def read_bytes(location: StateLocation, missing_ok: bool = False) -> bytes | None:
    """The state's bytes; None only when ``missing_ok`` and there is none."""
    if location.path is None:
        data = _s3_get(location)
    else:
        path = location.path
        if path.is_dir():
            raise CannotJudge(f"{path} is a folder, not a state file", "pass the .tfstate file itself")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as exc:
            raise CannotJudge(f"cannot read {path}: {exc.strerror}", "check the path and its permissions") from None
    if data is None and not missing_ok:
        raise CannotJudge(
            f"there is no state at {location}",
            "pass the original deployment's state (terraform state pull > original.tfstate) with --from-state",
        )
    return data


@dataclass(frozen=True)
class StateInfo:
    """What a state holds: its Terraform version and the managed resources' addresses."""

    terraform_version: str
    addresses: tuple[str, ...]
    serial: int


def _address(resource: dict[str, Any], instance: dict[str, Any]) -> str:
    base = f"{resource['type']}.{resource['name']}"
    if resource.get("module"):
        base = f"{resource['module']}.{base}"
    if "index_key" in instance:
        return f"{base}[{json.dumps(instance['index_key'])}]"
    return base


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("-", maxsplit=1)[0])[:3])


def inspect_state(data: bytes, source: str, terraform_version: str) -> StateInfo:
    """Check that ``data`` is a whole Terraform state this Terraform can read."""
    if not data.strip():
        raise CannotJudge(f"{source} is empty", "pass the state file itself (terraform state pull > original.tfstate)")
    try:
        state = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise CannotJudge(
            f"{source} is not a whole Terraform state: its JSON is broken{where}, a half-written or corrupt file",
            "use a good copy (terraform state pull, the .backup file, or an earlier version of the S3 object)",
        ) from None
    if not isinstance(state, dict) or "version" not in state or not isinstance(state.get("resources", []), list):
        raise CannotJudge(f"{source} is JSON but not a Terraform state", "pass a .tfstate file")
    if state["version"] != STATE_FORMAT:
        raise CannotJudge(
            f"{source} is a state of format version {state['version']}; this Terraform reads version {STATE_FORMAT}",
            "upgrade the state with the Terraform that wrote it (terraform 0.12 or newer writes version 4)",
        )
    written_by = str(state.get("terraform_version", "0"))
    if _version_tuple(written_by) > _version_tuple(terraform_version):
        raise CannotJudge(
            f"{source} was written by Terraform {written_by}, newer than this machine's {terraform_version}",
            f"install Terraform {written_by} or newer",
        )
    addresses = [
        _address(resource, instance)
        for resource in state.get("resources", [])
        if isinstance(resource, dict) and resource.get("mode") == "managed"
        for instance in resource.get("instances", [])
    ]
    return StateInfo(written_by, tuple(addresses), int(state.get("serial", 0)))


def backup(data: bytes, folder: Path, label: str) -> Path:
    """Write ``data`` to ``folder/<label>-<UTC time>.tfstate`` (never overwriting) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for attempt in range(100):
        path = folder / (f"{label}-{stamp}.tfstate" if attempt == 0 else f"{label}-{stamp}-{attempt}.tfstate")
        with contextlib.suppress(FileExistsError):  # taken: the next name
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(data)  # readable by its owner only, from the first byte
            return path
    raise CannotJudge(f"could not find a free backup name in {folder}", "clean up old backups there")


def lock_exists(location: StateLocation) -> bool:
    """Whether Terraform's lock (``use_lockfile``: ``<key>.tflock``; local: ``.<name>.lock.info``) is held."""
    if location.path is not None:
        return (location.path.parent / f".{location.path.name}.lock.info").exists()
    return _s3_get(replace(location, key=location.key + ".tflock")) is not None


def write(location: StateLocation, data: bytes) -> None:
    """Store ``data`` as the state at ``location`` (S3: server-side encrypted, as the backend's ``encrypt``)."""
    if location.path is not None:
        location.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=location.path.parent, prefix=".adopt-", suffix=".tfstate")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, location.path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return
    client = _s3(location)
    try:
        client.put_object(
            Bucket=location.bucket, Key=location.key, Body=data,
            ServerSideEncryption="AES256", ContentType="application/json",
        )  # fmt: skip
    except (ClientError, BotoCoreError) as exc:
        raise _s3_failure(exc, location, "write") from None
