"""TapStack: one environment of the TAP platform as one Terraform stack. This file owns the
provider, the state backend, the original HCL's six variables and its outputs, and composes
the modules of each concern in dependency order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from constructs import Construct

from stacks.api import TaskApi
from stacks.cdk import bindings, core
from stacks.compute import FunctionResources, TaskFunction
from stacks.config import (
    BUCKET_PATTERN,
    IP_LIKE_PATTERN,
    REGION_PATTERN,
    SECRET_PATTERN,
    TABLE_PATTERN,
    StackConfig,
)
from stacks.context import AwsContext
from stacks.dashboard import Dashboard, Watched
from stacks.database import TaskTable
from stacks.monitoring import Alarms
from stacks.naming import AddressRegistry
from stacks.network import Network
from stacks.package import LambdaPackage, build_rotation_package
from stacks.replication import AuditReplica
from stacks.rollout import Rollout
from stacks.rotation import KeyRotation
from stacks.secrets import ApiKeys, Encryption
from stacks.storage import AuditBucket

#: Services the stack talks to (Python names: `lambda_` is Terraform's `lambda`);
#: on an emulator each one is pointed at it.
EMULATED_SERVICES = (
    "apigateway", "applicationautoscaling", "cloudwatch", "codedeploy", "dynamodb", "ec2",
    "iam", "kms", "lambda_", "logs", "s3", "secretsmanager", "sns", "sts",
)  # fmt: skip
#: The rotation package's sources and where its zip is built (main.py passes its own build).
ROTATION_DIR = Path(__file__).resolve().parents[1] / "rotation"
ROTATION_PACKAGE_PATH = ROTATION_DIR.parent / "build" / "rotation.zip"
#: Credentials an emulator accepts; they open nothing on AWS.
EMULATOR_CREDENTIALS = {"access_key": "test", "secret_key": "test"}


def provider_settings(config: StackConfig) -> dict[str, Any]:
    """What every AWS provider of the stack needs besides region and tags: on an emulator,
    its endpoints and credentials; on AWS, nothing."""
    if not config.emulator_endpoint:
        return {}
    return {
        **EMULATOR_CREDENTIALS,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": "true",
        "skip_region_validation": True,
        "s3_use_path_style": True,
        "endpoints": [
            bindings.provider.AwsProviderEndpoints(**{s: config.emulator_endpoint for s in EMULATED_SERVICES})
        ],
    }


class TapStack(core.TerraformStack):
    """The whole TAP platform for one environment (``prod`` reproduces the original)."""

    def __init__(
        self,
        scope: Construct,
        config: StackConfig,
        package: LambdaPackage,
        rotation_package: LambdaPackage | None = None,
    ) -> None:
        super().__init__(scope, config.environment)
        if rotation_package is None:
            rotation_package = build_rotation_package(ROTATION_DIR, ROTATION_PACKAGE_PATH)
        self._addresses = AddressRegistry()
        v = self._variables(config)
        region = v["aws_region"].string_value
        tags = core.Token.as_string_map(v["tags"].value)
        bindings.provider.AwsProvider(
            self,
            "aws",
            region=region,
            default_tags=[bindings.provider.AwsProviderDefaultTags(tags=tags)],
            **provider_settings(config),
        )
        self._backend(config)
        aws = AwsContext(
            region=region,
            account_id=bindings.data_aws_caller_identity.DataAwsCallerIdentity(
                self, "data.aws_caller_identity.current"
            ).account_id,
            partition=bindings.data_aws_partition.DataAwsPartition(self, "data.aws_partition.current").partition,
            tags=tags,
        )
        allowed_ips = core.Token.as_list(v["lambda_allowed_ips"].value)
        encryption = Encryption(self, config, aws)
        network = Network(self, config, aws, encryption)
        bucket = AuditBucket(self, config, aws, encryption, v["lambda_log_bucket_name"].string_value)
        if config.audit_replica_region:
            AuditReplica(self, config, aws, encryption, bucket, provider_settings=provider_settings(config))
        table = TaskTable(self, config, aws, encryption, v["dynamodb_table_name"].string_value)
        secret_name = v["api_key_secret_name"].string_value
        api_keys = ApiKeys(self, config, aws, encryption, secret_name)
        KeyRotation(self, config, aws, rotation_package, encryption=encryption, network=network, api_keys=api_keys)
        uses = FunctionResources(
            encryption=encryption,
            network=network,
            table=table,
            bucket=bucket,
            api_keys=api_keys,
            secret_name=secret_name,
        )
        function = TaskFunction(self, config, aws, package, uses)
        api = TaskApi(self, config, aws, encryption, function=function, allowed_ips=allowed_ips)
        watched = Watched(api.rest_api.name, function.function.function_name, table.table.name)
        alarms = Alarms(self, config, aws, encryption, watched=watched)
        Dashboard(self, config, aws, watched=watched, alarm_arns=[alarm.arn for alarm in alarms.all])
        # A rollout stops and rolls back when one of these fires.
        rollout = Rollout(self, config, aws, rollback_alarms=(alarms.api_5xx, alarms.lambda_errors, alarms.latency))
        self._outputs(api, function, uses, alarms, rollout)

    def _allocate_logical_id(self, tf_element: Any) -> str:
        """Name every element by the address in its construct id: the HCL's own addresses.

        CDKTF also asks for ids of non-elements (an asset passes its construct ``Node``).
        """
        if not hasattr(tf_element, "node"):
            return self._addresses.allocate(tf_element.id, None, tf_element.path)
        kind: str | None = None
        if isinstance(tf_element, core.TerraformDataSource):
            kind = f"data.{tf_element.terraform_resource_type}"
        elif isinstance(tf_element, core.TerraformResource):
            kind = tf_element.terraform_resource_type
        elif isinstance(tf_element, core.TerraformVariable):
            kind = "var"
        elif isinstance(tf_element, core.TerraformOutput):
            kind = "output"
        return self._addresses.allocate(tf_element.node.id, kind, tf_element.node.path)

    def _backend(self, config: StackConfig) -> None:
        backend = config.backend
        if backend.kind == "local":
            core.LocalBackend(self, path=f"terraform.{config.environment}.tfstate")
            return
        assert backend.bucket, "config.load_config guarantees a bucket for the S3 backend"
        emulator: dict[str, Any] = {}
        if backend.endpoint:
            emulator = {
                **EMULATOR_CREDENTIALS,
                "endpoints": core.S3BackendEndpointConfig(s3=backend.endpoint, sts=backend.endpoint),
                "use_path_style": True,
                "skip_credentials_validation": True,
                "skip_region_validation": True,
                "skip_requesting_account_id": True,
                "skip_metadata_api_check": True,
                "skip_s3_checksum": True,
            }
        core.S3Backend(
            self,
            bucket=backend.bucket,
            key=backend.key,
            region=backend.region,
            encrypt=True,
            **emulator,
        )
        # Terraform >= 1.10 locks S3 state with a lock object; cdktf 0.21's S3Backend
        # predates the argument, so it is written as an override.
        self.add_override("terraform.backend.s3.use_lockfile", True)

    def _variables(self, config: StackConfig) -> dict[str, core.TerraformVariable]:
        """The HCL's six variables: same names, types, defaults and descriptions, now validated
        (``json.dumps`` quotes a pattern as an HCL string literal: HCL escapes like JSON)."""

        def variable(name: str, type_: str, default: Any, description: str, *checks: tuple[str, str]) -> None:
            made[name] = core.TerraformVariable(
                self,
                f"var.{name}",
                type=type_,
                default=default,
                description=description,
                # Terraform JSON takes a condition as a template: "${expression}".
                validation=[
                    core.TerraformVariableValidationConfig(condition=f"${{{c}}}", error_message=m) for c, m in checks
                ],
            )

        made: dict[str, core.TerraformVariable] = {}
        variable(
            "aws_region", "string", config.aws_region, "AWS region for all resources",
            (f"can(regex({json.dumps(REGION_PATTERN)}, var.aws_region))",
             "aws_region must be an AWS region name such as us-west-2."),
        )  # fmt: skip
        ip_checks = [
            (
                'alltrue([for ip in var.lambda_allowed_ips : can(cidrhost(strcontains(ip, "/") ? ip : '
                '"${ip}/${strcontains(ip, ":") ? 128 : 32}", 0))])',
                "Every lambda_allowed_ips entry must be an IPv4/IPv6 address or CIDR block, "
                "e.g. 203.0.113.1 or 198.51.100.0/24.",
            )
        ]
        if config.enforce_ip_allowlist:
            ip_checks.append(
                (
                    "length(var.lambda_allowed_ips) > 0",
                    "lambda_allowed_ips must not be empty while the API's IP allowlist is enforced: "
                    "nobody could call the API.",
                )
            )
        variable(
            "lambda_allowed_ips", "list(string)", list(config.lambda_allowed_ips),
            "List of known IP addresses allowed to access API Gateway", *ip_checks,
        )  # fmt: skip
        variable(
            "dynamodb_table_name", "string", config.dynamodb_table_name, "Name of the DynamoDB table",
            (f"can(regex({json.dumps(TABLE_PATTERN)}, var.dynamodb_table_name))",
             "dynamodb_table_name must be 3-255 characters of letters, digits, '_', '-' and '.'."),
        )  # fmt: skip
        variable(
            "lambda_log_bucket_name", "string", config.lambda_log_bucket_name, "Name of the S3 bucket for Lambda logs",
            (f"can(regex({json.dumps(BUCKET_PATTERN)}, var.lambda_log_bucket_name)) && "
             '!strcontains(var.lambda_log_bucket_name, "..") && '
             f"!can(regex({json.dumps(IP_LIKE_PATTERN)}, var.lambda_log_bucket_name))",
             "lambda_log_bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', "
             "starting and ending with a letter or digit, no '..', not an IP address."),
        )  # fmt: skip
        variable(
            "tags", "map(string)", None, "Tags for all resources",
            ("alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])",
             "tags keys must be 1-128 characters and values at most 256 characters."),
        )  # fmt: skip
        # CDKTF snake_cases the keys of a variable's default (Project → project); an
        # override is written verbatim.
        made["tags"].add_override("default", dict(config.tags))
        variable(
            "api_key_secret_name", "string", config.api_key_secret_name,
            "Name of the secret in AWS Secrets Manager for API keys",
            (f"can(regex({json.dumps(SECRET_PATTERN)}, var.api_key_secret_name))",
             "api_key_secret_name must be 1-512 characters of letters, digits and /_+=.@-"),
        )  # fmt: skip
        return made

    def _outputs(
        self, api: TaskApi, function: TaskFunction, uses: FunctionResources, alarms: Alarms, rollout: Rollout
    ) -> None:
        """The HCL's seven outputs under their names, then what a caller of the API needs, then
        what ``python -m rollout`` reads to start a deployment (docs/rollout.md)."""
        table, bucket, api_keys = uses.table, uses.bucket, uses.api_keys
        outputs = {
            "lambda_function_name": (function.function.function_name, "Name of the task API function"),
            "dynamodb_table_name": (table.table.name, "Name of the task table"),
            "api_gateway_id": (api.rest_api.id, "ID of the REST API"),
            "s3_log_bucket_name": (bucket.bucket.bucket, "Bucket holding the audit records"),
            "api_key_secret_arn": (api_keys.secret.arn, "ARN of the secret holding the API keys"),
            "cloudwatch_alarm_4xx_name": (alarms.by_address["apigw_4xx"].alarm_name, "Name of the API 4XX alarm"),
            "cloudwatch_alarm_5xx_name": (alarms.by_address["apigw_5xx"].alarm_name, "Name of the API 5XX alarm"),
            "api_invoke_url": (f"{api.stage.invoke_url}/lambda", "URL to POST task API requests to (SigV4-signed)"),
            "alarm_topic_arn": (alarms.topic.arn, "SNS topic every alarm notifies"),
            "lambda_function_arn": (function.function.arn, "ARN of the task API function"),
            "dynamodb_table_arn": (table.table.arn, "ARN of the task table"),
            "lambda_alias_name": (function.alias.name, "Alias API Gateway invokes; CodeDeploy moves it"),
            "lambda_alias_arn": (function.alias.arn, "ARN of the live alias"),
            "codedeploy_app_name": (rollout.app.name, "CodeDeploy application of the function's rollouts"),
            "codedeploy_deployment_group_name": (
                rollout.group.deployment_group_name,
                "CodeDeploy deployment group that shifts the live alias, with alarm rollback",
            ),
        }
        for name, (value, description) in outputs.items():
            core.TerraformOutput(self, f"output.{name}", value=value, description=description)
