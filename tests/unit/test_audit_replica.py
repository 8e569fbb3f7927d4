"""The audit replica (``TAP_AUDIT_REPLICA_REGION``): absent by default, and when asked for,
a locked-down bucket in the other region with its own key, wired into the audit bucket's
replication by a role that can do exactly that; Terraform validates it; bad regions are
refused in one line before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from stacks.checks import validate
from stacks.config import ConfigError, load_config
from tests.conftest import TEST_REPLICA_REGION
from tests.unit.helpers import addresses, jsonencoded, validation_report

ROOT = Path(__file__).resolve().parents[2]
REPLICA_ADDRESSES = {
    "aws_kms_key.audit_replica",
    "aws_kms_alias.audit_replica",
    "aws_s3_bucket.audit_replica",
    "aws_s3_bucket_versioning.audit_replica",
    "aws_s3_bucket_server_side_encryption_configuration.audit_replica",
    "aws_s3_bucket_public_access_block.audit_replica",
    "aws_s3_bucket_policy.audit_replica",
    "aws_s3_bucket_lifecycle_configuration.audit_replica",
    "aws_s3_bucket_notification.audit_replica",
}
#: In the stack's own region (IAM is global; the configuration belongs to the audit bucket).
HOME_ADDRESSES = {
    "aws_iam_role.audit_replication",
    "aws_iam_role_policy.audit_replication",
    "aws_s3_bucket_replication_configuration.lambda_logs",
}


def resource(stack: dict[str, Any], address: str) -> dict[str, Any]:
    kind, name = address.split(".")
    return dict(stack["resource"][kind][name])


def test_off_by_default_nothing_of_it_is_synthesized(
    prod_stack: dict[str, Any], dev_stack: dict[str, Any], local_stack: dict[str, Any]
) -> None:
    for stack in (prod_stack, dev_stack, local_stack):
        assert not (REPLICA_ADDRESSES | HOME_ADDRESSES) & set(addresses(stack))
        assert len(stack["provider"]["aws"]) == 1 and "alias" not in stack["provider"]["aws"][0]


def test_on_it_adds_the_replica_in_its_region_and_the_replication_at_home(replica_stack: dict[str, Any]) -> None:
    added = set(addresses(replica_stack))
    assert added >= REPLICA_ADDRESSES | HOME_ADDRESSES
    providers = replica_stack["provider"]["aws"]
    assert [p.get("alias") for p in providers] == [None, "audit_replica"]
    assert providers[1]["region"] == TEST_REPLICA_REGION
    assert providers[1]["default_tags"] == providers[0]["default_tags"]
    for address in REPLICA_ADDRESSES:
        assert resource(replica_stack, address)["provider"] == "aws.audit_replica", address
    for address in HOME_ADDRESSES:
        assert "provider" not in resource(replica_stack, address), address


def test_the_replica_is_locked_down_like_the_audit_bucket(replica_stack: dict[str, Any]) -> None:
    key = resource(replica_stack, "aws_kms_key.audit_replica")
    assert key["enable_key_rotation"] is True and key["deletion_window_in_days"] == 30
    assert '"Action" = "kms:*"' in key["policy"] and ":root" in key["policy"]
    assert resource(replica_stack, "aws_kms_alias.audit_replica")["target_key_id"] == (
        "${aws_kms_key.audit_replica.key_id}"
    )
    bucket = resource(replica_stack, "aws_s3_bucket.audit_replica")
    assert bucket["bucket"] == f"${{aws_s3_bucket.lambda_logs.bucket}}-replica-{TEST_REPLICA_REGION}"
    assert bucket["force_destroy"] is False
    assert "length(var.lambda_log_bucket_name) <= 45" in bucket["lifecycle"]["precondition"][0]["condition"]
    ref = "${aws_s3_bucket.audit_replica.id}"
    versioning = resource(replica_stack, "aws_s3_bucket_versioning.audit_replica")
    assert versioning["bucket"] == ref and versioning["versioning_configuration"] == {"status": "Enabled"}
    (rule,) = resource(replica_stack, "aws_s3_bucket_server_side_encryption_configuration.audit_replica")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": "${aws_kms_key.audit_replica.arn}",
    }
    assert rule["bucket_key_enabled"] is True
    block = resource(replica_stack, "aws_s3_bucket_public_access_block.audit_replica")
    assert all(block[name] is True for name in ("block_public_acls", "block_public_policy", "ignore_public_acls"))
    assert block["restrict_public_buckets"] is True
    bucket_policy = resource(replica_stack, "aws_s3_bucket_policy.audit_replica")["policy"]
    assert bucket_policy == resource(replica_stack, "aws_s3_bucket_policy.lambda_logs")["policy"].replace(
        "lambda_logs", "audit_replica"
    )
    assert '"aws:SecureTransport" = "false"' in bucket_policy and '"Effect" = "Deny"' in bucket_policy
    replica_rules = resource(replica_stack, "aws_s3_bucket_lifecycle_configuration.audit_replica")["rule"]
    assert replica_rules == resource(replica_stack, "aws_s3_bucket_lifecycle_configuration.lambda_logs")["rule"]
    assert resource(replica_stack, "aws_s3_bucket_notification.audit_replica")["eventbridge"] is True


def test_the_audit_bucket_replicates_its_audit_prefix_to_the_replica(replica_stack: dict[str, Any]) -> None:
    config = resource(replica_stack, "aws_s3_bucket_replication_configuration.lambda_logs")
    assert config["bucket"] == "${aws_s3_bucket.lambda_logs.id}"
    assert config["role"] == "${aws_iam_role.audit_replication.arn}"
    assert config["depends_on"] == ["aws_s3_bucket_versioning.lambda_logs", "aws_s3_bucket_versioning.audit_replica"]
    assert config["lifecycle"]["precondition"][0]["condition"] == f'${{var.aws_region != "{TEST_REPLICA_REGION}"}}'
    (rule,) = config["rule"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": "audit/"}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    assert rule["delete_marker_replication"] == {"status": "Disabled"}
    assert rule["destination"] == {
        "bucket": "${aws_s3_bucket.audit_replica.arn}",
        "encryption_configuration": {"replica_kms_key_id": "${aws_kms_key.audit_replica.arn}"},
    }


def test_the_replication_role_may_do_exactly_the_replication(replica_stack: dict[str, Any]) -> None:
    role = resource(replica_stack, "aws_iam_role.audit_replication")
    assert role["name"] == "tap_stack_audit_replication"
    trust = jsonencoded(role["assume_role_policy"])
    assert trust["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}}
    ]
    attached = resource(replica_stack, "aws_iam_role_policy.audit_replication")
    assert attached["role"] == "${aws_iam_role.audit_replication.id}"
    statements = {s.pop("Sid"): s for s in jsonencoded(attached["policy"])["Statement"]}
    source, replica = "${aws_s3_bucket.lambda_logs.arn}", "${aws_s3_bucket.audit_replica.arn}"
    assert statements == {
        "ReadReplicationSettings": {
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source,
        },
        "ReadSourceVersions": {
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            "Resource": f"{source}/audit/*",
        },
        "WriteReplicas": {
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": f"{replica}/audit/*",
        },
        "DecryptWithStackKey": {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "${aws_kms_key.main.arn}",
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.${var.aws_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [source, f"{source}/audit/*"]},
            },
        },
        "EncryptWithReplicaKey": {
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": "${aws_kms_key.audit_replica.arn}",
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{TEST_REPLICA_REGION}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [replica, f"{replica}/audit/*"]},
            },
        },
    }
    # Nothing wider: no wildcard actions or resources, no deletes replicated.
    text = attached["policy"]
    assert '"Resource" = "*"' not in text and ':*"' not in text and "ReplicateDelete" not in text


@pytest.mark.terraform
def test_terraform_validates_the_stack_with_a_replica(replica_stack_dir: Path) -> None:
    report = validation_report(replica_stack_dir)
    assert (report["valid"], report["error_count"], report["warning_count"]) == (True, 0, 0), report["diagnostics"]


@pytest.mark.parametrize(
    ("region", "line"),
    [
        (
            "us-west-2",
            "tap-stack: config error: prod: TAP_AUDIT_REPLICA_REGION='us-west-2' is the stack's own region: "
            "a replica must be in another region",
        ),
        (
            "westeurope",
            "tap-stack: config error: prod: TAP_AUDIT_REPLICA_REGION='westeurope' is not an AWS region name "
            "(e.g. us-east-1)",
        ),
    ],
)
def test_a_bad_replica_region_stops_the_synth_in_one_line(tmp_path: Path, region: str, line: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_")}
    outdir = tmp_path / "out"
    env.update(
        {
            "TAP_ENVIRONMENTS": "prod",
            "TAP_BACKEND": "local",
            "TAP_AUDIT_REPLICA_REGION": region,
            "CDKTF_OUTDIR": str(outdir),
        }
    )
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line]
    assert not outdir.exists(), "nothing is written"


def test_a_replica_name_s3_would_refuse_is_named() -> None:
    config = replace(load_config("prod", {"TAP_BACKEND": "local"}), audit_replica_region="ap-southeast-2")
    with pytest.raises(ConfigError, match="longer than 63 characters: shorten lambda_log_bucket_name"):
        validate(replace(config, lambda_log_bucket_name="a" * 41))
    assert validate(replace(config, lambda_log_bucket_name="a" * 40)).audit_replica_region == "ap-southeast-2"
