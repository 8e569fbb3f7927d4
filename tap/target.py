"""Which API to call, with which key, signed or not (docs/cli.md, "Which API, which key,
signed or not")."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError
from botocore.session import Session

from tap.client import ApiClient, CallFailed, http_url

#: The handler's key cache time (function/contract.py, KEY_CACHE_TTL_SECONDS): a new key is
#: sent only once it is this old.
KEY_CACHE_SECONDS: Final = 300.0

SignMode = Literal["auto", "always", "never"]
_EXECUTE_API_HOST: Final = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_INSTEAD: Final = "pass --url and --api-key (or set TAP_API_URL and TAP_API_KEY)"


class TargetError(CallFailed):
    """No usable URL, key or credentials; the message is one line saying what to do."""


def resolve(url: str | None, key: str | None, stack: str | None, region: str | None, sign: SignMode) -> ApiClient:
    """The client of the API the flags, the environment, the stack or the local session name."""
    url = url or os.environ.get("TAP_API_URL") or None
    key = key or os.environ.get("TAP_API_KEY") or None
    stack = stack or os.environ.get("TAP_STACK") or None
    here = Path.cwd().resolve()  # the checkout: the nearest folder holding cdktf.json, upwards
    project = next((folder for folder in (here, *here.parents) if (folder / "cdktf.json").is_file()), None)
    if (url is None or key is None) and stack:
        stack_url, stack_key = _from_stack(project, stack, region, need_key=key is None)
        url, key = url or stack_url, key or stack_key
    session_file = _session_file(project)
    if (url is None or key is None) and session_file is not None:
        with contextlib.suppress(OSError, ValueError):  # unreadable or not JSON: as if there were none
            session = json.loads(session_file.read_text())
            if isinstance(session, dict):
                url, key = url or session.get("api_url"), key or session.get("api_key")
    if url and key:
        return ApiClient(url, key, _signing(url, region, sign))
    missing = "URL: pass --url or set TAP_API_URL" if not url else "key: pass --api-key or set TAP_API_KEY"
    if session_file is None:
        raise TargetError(
            f"no API {missing} (outside a tap-stack checkout there is no --stack ENV or make local session to read)"
        )
    raise TargetError(
        f"no API {missing}, name a deployed stack with --stack ENV, or start make local (no session in {session_file})"
    )


def _session_file(project: Path | None) -> Path | None:
    """``$TAP_LOCAL_DIR/session.json``, else the checkout's ``.local/session.json`` (as local/paths.py)."""
    override = os.environ.get("TAP_LOCAL_DIR", "").strip()
    if override:
        return Path(override).resolve() / "session.json"
    return project / ".local" / "session.json" if project is not None else None


def _signing(url: str, region: str | None, sign: SignMode) -> tuple[Credentials, str] | None:
    host = http_url(url).hostname or ""
    if sign == "never" or (sign == "auto" and is_loopback(host)):
        return None
    session = Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise TargetError(
            "no AWS credentials found: the API needs SigV4-signed requests; set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or --no-sign for an API that does not check signatures)"
        )
    match = _EXECUTE_API_HOST.match(host)
    region = region or (match.group(1) if match else None) or session.get_config_variable("region")
    if not region:
        raise TargetError(f"cannot tell the AWS region of {url}: pass --region or set AWS_REGION")
    return credentials, region


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (also written ``[::1]``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _from_stack(project: Path | None, stack: str, region: str | None, need_key: bool) -> tuple[str, str | None]:
    if project is None:
        raise TargetError(f"--stack {stack} works inside a tap-stack checkout (none holds {Path.cwd()}): {_INSTEAD}")
    stack_dir = project / "cdktf.out" / "stacks" / stack
    if not (stack_dir / "cdk.tf.json").is_file():
        raise TargetError(
            f"stack {stack!r} is not synthesized ({stack_dir} has no cdk.tf.json): run make synth, or {_INSTEAD}"
        )
    outputs = _terraform_outputs(stack_dir, stack)
    url, secret_arn = outputs.get("api_invoke_url"), outputs.get("api_key_secret_arn")
    if not isinstance(url, str) or not isinstance(secret_arn, str):
        raise TargetError(
            f"stack {stack!r} has no api_invoke_url/api_key_secret_arn outputs: is it deployed? Or {_INSTEAD}"
        )
    if not need_key:
        return url, None
    secret_region = region or secret_arn.split(":")[3]
    try:
        client: Any = Session().create_client("secretsmanager", region_name=secret_region)
        value = client.get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")
        secret = json.loads(value["SecretString"])
    except (BotoCoreError, ClientError, ValueError, KeyError, TypeError) as exc:
        raise TargetError(f"cannot read the API key from {secret_arn}: {exc}; or pass --api-key") from None
    key = key_to_use(secret) if isinstance(secret, dict) else None
    if key is None:
        raise TargetError(f'secret {secret_arn} holds no key: store {{"api_keys": ["<key>"]}} in it first')
    return url, key


def key_to_use(secret: dict[str, Any], now: datetime | None = None) -> str | None:
    """The key to send from a key secret: the newest one still accepted that was issued at least
    the handler's key cache time (5 minutes) ago, when every container knows it; else the oldest
    accepted one. The same rule as ``rotation.keys.key_to_use`` (tap imports nothing of the
    project; a test holds the two together)."""
    keys = secret.get("api_keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        return None
    now = now or datetime.now(UTC)
    issued, retire = _times(secret.get("issued_at")), _times(secret.get("retire_at"))
    settled = now - timedelta(seconds=KEY_CACHE_SECONDS)
    accepted = [k for k in keys if retire.get(_fingerprint(k), now + timedelta(days=1)) > now]
    known = [k for k in accepted if issued.get(_fingerprint(k), settled) <= settled]
    return known[-1] if known else (accepted[0] if accepted else None)


def _times(raw: Any) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for fp, text in raw.items() if isinstance(raw, dict) else ():
        with contextlib.suppress(ValueError):  # not a time: as if the key had none
            moment = datetime.fromisoformat(str(text))
            found[str(fp)] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return found


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _terraform_outputs(stack_dir: Path, stack: str) -> dict[str, Any]:
    binary = shutil.which("terraform")
    if binary is None:
        raise TargetError(f"terraform is not on PATH: --stack needs it to read the stack's outputs; or {_INSTEAD}")
    try:
        result = subprocess.run(
            [binary, "output", "-json", "-no-color"],
            cwd=stack_dir,
            text=True,
            capture_output=True,
            timeout=300,
            check=False,
        )
        raw = json.loads(result.stdout or "{}") if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise TargetError(f"terraform output in {stack_dir} failed: {exc}") from None
    if not isinstance(raw, dict):
        last = (result.stderr or result.stdout).strip().splitlines()
        raise TargetError(f"terraform output for stack {stack!r} failed: {last[-1] if last else 'no output'}")
    return {name: entry.get("value") for name, entry in raw.items() if isinstance(entry, dict)}
