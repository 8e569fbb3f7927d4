"""Which API to call, with which key, signed or not.

Each of the URL and the key comes from the first source that has it:

1. the flags ``--url`` / ``--api-key``;
2. the environment: ``TAP_API_URL`` / ``TAP_API_KEY``;
3. with ``--stack ENV`` (or ``TAP_STACK``): the deployed stack, i.e. Terraform's outputs
   ``api_invoke_url`` and ``api_key_secret_arn`` in ``cdktf.out/stacks/ENV`` and the first
   key of that secret (read with the caller's AWS credentials);
4. otherwise the running ``make local`` (``.local/session.json``).

Requests are SigV4-signed for ``execute-api`` unless the URL is on the loopback interface
(the local server does not check signatures); ``--sign`` / ``--no-sign`` override that.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from botocore.session import Session

from local.paths import PROJECT, local_paths
from tap.client import ApiClient, Signer

SignMode = Literal["auto", "always", "never"]
_EXECUTE_API_HOST: Final = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class TargetError(Exception):
    """No usable URL, key or credentials; the message is one line saying what to do."""


@dataclass(frozen=True)
class TargetOptions:
    url: str | None = None
    api_key: str | None = None
    stack: str | None = None
    region: str | None = None
    sign: SignMode = "auto"


def resolve(options: TargetOptions, environ: dict[str, str] | None = None) -> ApiClient:
    env = dict(os.environ if environ is None else environ)
    url = options.url or env.get("TAP_API_URL") or None
    key = options.api_key or env.get("TAP_API_KEY") or None
    stack = options.stack or env.get("TAP_STACK") or None
    if (url is None or key is None) and stack:
        stack_url, stack_key = _from_stack(stack, options.region, need_key=key is None)
        url, key = url or stack_url, key or stack_key
    if url is None or key is None:
        session = _local_session()
        if session is not None:
            url, key = url or session.get("api_url"), key or session.get("api_key")
    if not url:
        raise TargetError(
            "no API URL: pass --url, set TAP_API_URL, name a deployed stack with --stack, or run make local"
        )
    if not key:
        raise TargetError("no API key: pass --api-key, set TAP_API_KEY, or name a deployed stack with --stack")
    return ApiClient(url, key, _signer(url, options))


def _signer(url: str, options: TargetOptions) -> Signer | None:
    host = urlsplit(url).hostname or ""
    if options.sign == "never" or (options.sign == "auto" and _is_loopback(host)):
        return None
    session = Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise TargetError(
            "no AWS credentials found: the API needs SigV4-signed requests; set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or --no-sign for an API that does not check signatures)"
        )
    match = _EXECUTE_API_HOST.match(host)
    region = options.region or (match.group(1) if match else None) or session.get_config_variable("region")
    if not region:
        raise TargetError(f"cannot tell the AWS region of {url}: pass --region or set AWS_REGION")
    return Signer(credentials, region)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _local_session() -> dict[str, Any] | None:
    path = local_paths().session
    try:
        session = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return session if isinstance(session, dict) else None


def _from_stack(stack: str, region: str | None, need_key: bool) -> tuple[str, str | None]:
    stack_dir = PROJECT / "cdktf.out" / "stacks" / stack
    if not (stack_dir / "cdk.tf.json").is_file():
        raise TargetError(f"stack {stack!r} is not synthesized ({stack_dir} has no cdk.tf.json): run make synth")
    outputs = _terraform_outputs(stack_dir, stack)
    url, secret_arn = outputs.get("api_invoke_url"), outputs.get("api_key_secret_arn")
    if not isinstance(url, str) or not isinstance(secret_arn, str):
        raise TargetError(f"stack {stack!r} has no api_invoke_url/api_key_secret_arn outputs: is it deployed?")
    if not need_key:
        return url, None
    secret_region = region or secret_arn.split(":")[3]
    try:
        client: Any = Session().create_client("secretsmanager", region_name=secret_region)
        secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    except (BotoCoreError, ClientError, ValueError, KeyError, TypeError) as exc:
        raise TargetError(f"cannot read the API key from {secret_arn}: {exc}") from None
    keys = secret.get("api_keys") if isinstance(secret, dict) else None
    if not isinstance(keys, list) or not keys or not isinstance(keys[0], str):
        raise TargetError(f'secret {secret_arn} holds no key: store {{"api_keys": ["<key>"]}} in it first')
    return url, keys[0]


def _terraform_outputs(stack_dir: Path, stack: str) -> dict[str, Any]:
    binary = shutil.which("terraform")
    if binary is None:
        raise TargetError("terraform is not on PATH: it is needed to read the outputs of --stack")
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
