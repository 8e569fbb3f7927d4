"""The ``python -m keyops`` command line: ``rotate``, ``revoke`` and ``list`` on the API key secret.

* ``rotate`` asks Secrets Manager to rotate the secret now (RotateSecret: the stack's rotation
  function runs its four steps); the keys callers hold keep working for the retirement window.
* ``revoke --fingerprint HEX`` removes the one key with that fingerprint (the 12 hex digits
  audit records carry as ``api_key_fingerprint``) from the current version at once, so no key
  is ever typed; handler containers stop accepting it within their key cache time (5 min).
* ``list`` shows each key's fingerprint, issue and retirement time (never a key).

The secret is ``--secret-id`` or the deployed stack's ``api_key_secret_arn`` output. Exit
status: 0 done; 2 nothing changed (one line on stderr: bad input, a rotation in progress, a
fingerprint no key has, the last key, rotation not configured, AWS out of reach).
"""

from __future__ import annotations

import argparse
import re
import uuid
from collections.abc import Sequence
from typing import Any

from rotation import keys as k
from workspace.operator_cli import STOPS, CommandError, deployed, refuse, stack_parser

#: stacks/config.py's environments (keyops may not import it).
ENVIRONMENTS = ("prod", "dev", "local")
FINGERPRINT = re.compile(r"^[0-9a-f]{12}$")
CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"


class Refused(CommandError):
    """Nothing was changed; the message says why in one line."""


def parser() -> argparse.ArgumentParser:
    p = stack_parser("python -m keyops", "Rotate or revoke the task API's keys.", ENVIRONMENTS, "the secret")
    p.add_argument("action", choices=("rotate", "revoke", "list"))
    p.add_argument("--fingerprint", help="revoke: the key's api_key_fingerprint (12 hex digits)")
    p.add_argument("--secret-id", help="the secret's name or ARN, instead of the stack's output")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(_run(args))
    except STOPS as exc:
        return refuse("keyops", exc)
    return 0


def _run(args: argparse.Namespace) -> str:
    if args.action == "revoke" and not FINGERPRINT.match(args.fingerprint or ""):
        raise Refused(f"--fingerprint {args.fingerprint!r}: give the 12 lowercase hex digits of api_key_fingerprint")
    stack = deployed(args)
    secret_id = args.secret_id or stack.output("api_key_secret_arn", "pass --secret-id")
    client = stack.client("secretsmanager")
    if args.action == "rotate":
        return rotate(client, secret_id)
    if args.action == "revoke":
        return revoke(client, secret_id, args.fingerprint)
    return listing(client, secret_id)


def rotate(client: Any, secret_id: str) -> str:
    """Start a rotation by the secret's configured function."""
    if not client.describe_secret(SecretId=secret_id).get("RotationEnabled"):
        raise Refused(f"{secret_id} has no rotation configured: deploy the stack first")
    _refuse_while_rotating(client, secret_id)
    version = client.rotate_secret(SecretId=secret_id, ClientRequestToken=str(uuid.uuid4()))["VersionId"]
    return f"keyops: rotation of {secret_id} started (version {version}); callers move to the new key after 5 minutes"


def revoke(client: Any, secret_id: str, fingerprint: str) -> str:
    """Write a current version without the key of that fingerprint."""
    _refuse_while_rotating(client, secret_id)
    value = client.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"]
    try:
        remaining, _ = k.revoked(k.parse(value), fingerprint)
    except k.MalformedSecret as exc:
        raise Refused(f"{secret_id} is malformed ({exc}); nothing changed") from None
    except ValueError as exc:
        raise Refused(f"{exc}; nothing changed (list them: python -m keyops list)") from None
    if not remaining.accepted(k.utc_now()):
        raise Refused(f"{fingerprint} is the last key the API accepts: rotate first (make rotate-keys), then revoke")
    client.put_secret_value(SecretId=secret_id, ClientRequestToken=str(uuid.uuid4()), SecretString=k.dump(remaining))
    return (
        f"keyops: revoked key {fingerprint} of {secret_id}; {len(remaining.keys)} key(s) remain; "
        "containers stop accepting it within 5 minutes"
    )


def listing(client: Any, secret_id: str) -> str:
    """One line per key: fingerprint, issued, retires (never the key)."""
    key_set = k.parse(client.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"])
    use = k.key_to_use(key_set, k.utc_now())
    lines = [f"{'fingerprint':<12}  {'issued':<20}  {'retires':<20}  in use"]
    for key in key_set.keys:
        fp = k.fingerprint(key)
        issued, retires = key_set.issued_at.get(fp), key_set.retire_at.get(fp)
        lines.append(
            f"{fp:<12}  {issued.isoformat() if issued else '-':<20}  {retires.isoformat() if retires else '-':<20}  "
            f"{'yes' if key == use else ''}"
        )
    return "\n".join(lines)


def _refuse_while_rotating(client: Any, secret_id: str) -> None:
    stages = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    pending = [v for v, labels in stages.items() if PENDING in labels and CURRENT not in labels]
    if pending:
        raise Refused(
            f"version {pending[0]} of {secret_id} is AWSPENDING: a rotation is running or failed; wait a minute, "
            "or see docs/runbooks.md (Rotating and revoking keys); nothing changed"
        )
