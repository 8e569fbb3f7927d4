"""Mends to moto 5.2 that the AWS provider and this stack need, applied in the process serving moto.

:func:`apply` mends moto in the calling process (the emulator calls it before serving; an
in-process ``mock_aws`` user may call it too), once however often it runs. Why each mend is
needed, and what it changes: docs/local.md, "The emulator's mends".
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import re
import threading
from typing import Any

from moto.apigateway.models import RestAPI
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from moto.secretsmanager.models import SecretsManagerBackend

from workspace.codedeploy_mend import mend_codedeploy
from workspace.dynamodb_mend import patch_transactions
from workspace.dynamodb_pitr_mend import mend_point_in_time_recovery

#: Application Auto Scaling tags: {scalable target ARN: {key: value}}.
_AAS_TAGS: dict[str, dict[str, str]] = {}

#: Request context bucket policies are evaluated with: requests arrive over TLS.
S3_REQUEST_CONTEXT = {"aws:securetransport": "true"}

#: Negated operators hold when the key is missing from the request context, as on AWS.
_HOLD_WHEN_MISSING = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike"})


@functools.cache
def apply() -> None:
    """Mend moto in this process: call before the first request is served."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    patch_transactions()  # first, so that the atomic DynamoDB operations below include it
    mend_point_in_time_recovery()  # likewise: a write and its journal entry are one step
    _mend_application_autoscaling_tags()
    _mend_apigateway_policy()
    _mend_s3_bucket_policy_conditions()
    _mend_s3_eventbridge_notification()
    _mend_dynamodb_atomic_operations()
    mend_codedeploy()
    _mend_secret_rotation_schedule()
    mend_dynamodb_comparisons()


@functools.cache
def mend_dynamodb_comparisons() -> None:
    """Only the string-comparison mend (same order, faster Queries): what an in-process
    ``mock_aws`` user with a table of thousands of items needs (``testkit.mixed_load.atomic_dynamodb``)."""
    original_eq, original_ne, original_lt = DynamoType.__eq__, DynamoType.__ne__, DynamoType.__lt__

    def equals(self: DynamoType, other: DynamoType) -> bool:
        if self.type == "S" and other.type == "S":
            return bool(self.value == other.value)
        return original_eq(self, other)

    def differs(self: DynamoType, other: DynamoType) -> bool:
        if self.type == "S" and other.type == "S":
            return bool(self.value != other.value)
        return original_ne(self, other)

    def less_than(self: DynamoType, other: DynamoType) -> bool:
        if self.type == "S" and other.type == "S":
            return bool(self.value < other.value)
        return original_lt(self, other)

    _replace(DynamoType, __eq__=equals, __ne__=differs, __lt__=less_than)


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM condition evaluation for the common operators.

    A key missing from ``context`` fails the positive operators and passes the negated and
    ``...IfExists`` ones, as on AWS; an operator not handled here makes the condition fail,
    so the statement does not apply.
    """
    for raw_operator, pairs in condition.items():
        operator = raw_operator.removesuffix("IfExists")
        if_exists = operator != raw_operator
        for key, expected in (pairs or {}).items():
            wanted = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            actual = context.get(key.lower())
            if operator == "Null":
                ok = ("true" if actual is None else "false") in [w.lower() for w in wanted]
            elif actual is None:
                ok = if_exists or operator in _HOLD_WHEN_MISSING
            else:
                ok = _compare(operator, actual, wanted)
            if not ok:
                return False
    return True


def _compare(operator: str, actual: str, wanted: list[str]) -> bool:
    positive = operator.replace("StringNot", "String", 1)  # StringNotX holds where StringX does not
    if positive in ("Bool", "StringEqualsIgnoreCase"):
        holds = actual.lower() in [w.lower() for w in wanted]
    elif positive == "StringEquals":
        holds = actual in wanted
    elif positive == "StringLike":
        holds = any(fnmatch.fnmatchcase(actual, w) for w in wanted)
    else:
        return False
    return holds != (positive != operator)


def _replace(cls: type, **methods: Any) -> None:
    """Put ``methods`` on ``cls`` in place of moto's own."""
    for name, method in methods.items():
        setattr(cls, name, method)


def _mend_secret_rotation_schedule() -> None:
    original = SecretsManagerBackend.rotate_secret

    def rotate_secret(self: SecretsManagerBackend, secret_id: str, **options: Any) -> str:
        rotation_lambda_arn, rotation_rules = options.get("rotation_lambda_arn"), options.get("rotation_rules")
        if (
            options.get("rotate_immediately", True)
            or not rotation_lambda_arn
            or not self._is_valid_identifier(secret_id)
        ):
            return original(self, secret_id, **options)
        secret: Any = self.secrets[secret_id]  # a FakeSecret (a replica is refused by moto's own code)
        secret.rotation_requested = True
        secret.rotation_lambda_arn = rotation_lambda_arn
        days = int((rotation_rules or {}).get("AutomaticallyAfterDays", 0))
        secret.auto_rotate_after_days = days
        secret.rotation_enabled = days > 0
        result: str = secret.to_short_dict()
        return result

    _replace(SecretsManagerBackend, rotate_secret=rotate_secret)


def _mend_application_autoscaling_tags() -> None:
    response = ApplicationAutoScalingResponse

    def known_tags(self: Any) -> dict[str, str]:
        """The tags of the request's ``ResourceARN``, which must name a scalable target."""
        arn = self._get_param("ResourceARN")
        targets = self.applicationautoscaling_backend.targets.values()
        if not any(target.arn == arn for by_id in targets for target in by_id.values()):
            raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for {arn}")
        return _AAS_TAGS.setdefault(arn, {})

    def list_tags_for_resource(self: Any) -> str:
        return json.dumps({"Tags": dict(known_tags(self))})

    def tag_resource(self: Any) -> str:
        known_tags(self).update(self._get_param("Tags") or {})
        return json.dumps({})

    def untag_resource(self: Any) -> str:
        tags = known_tags(self)
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return json.dumps({})

    original_register = response.register_scalable_target
    original_deregister = response.deregister_scalable_target

    def register_scalable_target(self: Any) -> str:
        # RegisterScalableTarget carries the initial tags; moto drops them.
        result = original_register(self)
        tags = self._get_param("Tags")
        if tags:
            arn = json.loads(result)["ScalableTargetARN"]
            _AAS_TAGS.setdefault(arn, {}).update(tags)
        return result

    def deregister_scalable_target(self: Any) -> str:
        backend = self.applicationautoscaling_backend
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        before = {t.arn for t in backend.describe_scalable_targets(namespace, [resource_id], dimension)}
        result = original_deregister(self)
        for arn in before:
            _AAS_TAGS.pop(arn, None)
        return result

    _replace(
        response,
        list_tags_for_resource=list_tags_for_resource,
        tag_resource=tag_resource,
        untag_resource=untag_resource,
        register_scalable_target=register_scalable_target,
        deregister_scalable_target=deregister_scalable_target,
    )


def _mend_apigateway_policy() -> None:
    original_to_dict = RestAPI.to_dict

    def to_dict(self: RestAPI) -> dict[str, Any]:
        data = original_to_dict(self)
        policy = data.get(RestAPI.PROP_POLICY)
        if isinstance(policy, str) and policy:
            # AWS answers with the policy JSON escaped once more, as in a JSON string literal.
            data[RestAPI.PROP_POLICY] = json.dumps(policy)[1:-1]
        return data

    _replace(RestAPI, to_dict=to_dict)


def _mend_s3_bucket_policy_conditions() -> None:
    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        statements = json.loads(self.policy).get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        permitted = False
        for raw in statements:
            if raw.get("Condition") and not condition_holds(raw["Condition"], S3_REQUEST_CONTEXT):
                continue
            unconditional = {k: v for k, v in raw.items() if k != "Condition"}
            result = IAMPolicyStatement(unconditional).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return result
            permitted = permitted or result == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    _replace(FakeBucket, get_permission=get_permission)


def _mend_s3_eventbridge_notification() -> None:
    original = S3Response.get_bucket_notification
    empty = re.compile(r"<NotificationConfiguration([^>]*)/>")
    element = "<EventBridgeConfiguration></EventBridgeConfiguration>"

    def get_bucket_notification(self: S3Response) -> Any:
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        status, headers, body = original(self)
        if not config or getattr(config, "event_bridge", None) is None:
            return status, headers, body
        text = body.decode() if isinstance(body, bytes) else str(body)
        if "<EventBridgeConfiguration" not in text:
            closing = "</NotificationConfiguration>"
            if closing in text:
                text = text.replace(closing, element + closing)
            else:
                text = empty.sub(rf"<NotificationConfiguration\1>{element}</NotificationConfiguration>", text)
        return status, headers, text

    _replace(S3Response, get_bucket_notification=get_bucket_notification)


def _mend_dynamodb_atomic_operations() -> None:
    lock = threading.RLock()
    methods = {}
    names = ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "query", "scan")
    for name in (*names, "restore_table_to_point_in_time"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: DynamoDBBackend, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        methods[name] = atomic
    _replace(DynamoDBBackend, **methods)
