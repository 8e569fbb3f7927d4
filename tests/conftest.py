"""Session-wide fixtures: the stacks are synthesized once per test session.

Importing the AWS provider bindings costs ~10 s and ~1 GB per process (jsii), so every
test that looks at synthesized Terraform shares the stacks built here.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from botocore import loaders as botocore_loaders
from botocore.loaders import JSONFileLoader

from stacks.config import StackConfig, load_config
from stacks.package import LambdaPackage, build_lambda_package

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

#: A state bucket name for synthesizing the S3 backend; nothing is ever written to it.
TEST_STATE_BUCKET = "tap-stack-test-state"
#: The alarm address of the test prod stack (prod's deployable synth needs a destination).
TEST_ALARM_EMAIL = "ops@example.com"
#: The switched-off stack's destinations: several addresses and an existing topic.
TEST_ALARM_EMAILS = "ops@example.com,oncall+tap@example.org,lead@example.net"
TEST_ALARM_TOPIC = "arn:aws:sns:us-west-2:123456789012:tap-pager"
#: The switched-off stack's CORS origin (prod keeps the original's placeholder).
TEST_CORS_ORIGIN = "https://tasks.example.com"
#: The region of the audit replica in the prod stack synthesized with one.
TEST_REPLICA_REGION = "us-east-1"


class _ParsedOnce(JSONFileLoader):
    """botocore's JSON loader, each file parsed once per process: see below."""

    def load_file(self, file_path: str) -> Any:
        return _parsed(file_path)


@functools.cache
def _parsed(file_path: str) -> Any:
    return JSONFileLoader().load_file(file_path)


def _parse_botocore_data_files_once() -> None:
    """Each botocore data file (a service model, the endpoint rules) parsed once per test process.

    Nearly every test starts a fresh Lambda container, so a fresh botocore session, and a session
    shares what it parsed among its own clients only. Here botocore's loader shares the parsed
    files among sessions too. What botocore writes into them is the same every time (the models'
    extras, the endpoints it resolved). moto's own loader, which merges its extras into the
    models it serves from (new S3 operations and errors, for one), keeps parsing its own copies,
    so the handler's clients see each model as botocore ships it
    (tests/function/test_handler_dependencies.py checks that). The handler's code is not touched.
    """
    from moto.core import loaders as moto_loaders

    botocore_loaders.Loader.FILE_LOADER_CLASS = _ParsedOnce
    moto_loaders.Loader.FILE_LOADER_CLASS = JSONFileLoader


def pytest_configure(config: pytest.Config) -> None:
    _parse_botocore_data_files_once()
    config.addinivalue_line("markers", "e2e: deploys to a local emulator (minutes)")
    config.addinivalue_line("markers", "terraform: runs the terraform CLI against the real provider")
    config.addinivalue_line(
        "markers", "slow: starts processes of its own (synths, the installed tap wheel): seconds each"
    )
    config.addinivalue_line(
        "markers", "migration: plans the stack against the original HCL deployed to the emulator (minutes)"
    )
    config.addinivalue_line(
        "markers", "cli: npx cdktf|cdktn on the app: synth, and diff and deploy on the emulator (minutes; not in CI)"
    )


#: The folders whose tests share an expensive session fixture of their conftest.py: the emulator
#: deployment of tests/integration, the original HCL's state of tests/migration. Under
#: ``make test`` (pytest-xdist) each folder runs in one worker, so each is made once; other
#: tests are dealt out by module, so module fixtures are made once too.
SHARED_FIXTURE_FOLDERS = ("tests/integration/", "tests/migration/")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's by-module scheduling, with each folder above as one unit."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModuleAndSharedFolder(LoadScopeScheduling):  # type: ignore[misc]  # xdist has no type hints here
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return next((folder for folder in SHARED_FIXTURE_FOLDERS if module.startswith(folder)), module)

    return ByModuleAndSharedFolder(config, log)


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> LambdaPackage:
    """The function package, built exactly as main.py builds it."""
    return build_lambda_package(ROOT / "function", tmp_path_factory.mktemp("package") / "function.zip")


@pytest.fixture(scope="session")
def prod_config() -> StackConfig:
    """prod as it deploys: S3 state and an alarm destination (a deployable synth requires one)."""
    return load_config("prod", {"TAP_STATE_BUCKET": TEST_STATE_BUCKET, "TAP_ALARM_EMAILS": TEST_ALARM_EMAIL})


@pytest.fixture(scope="session")
def synthesized(prod_config: StackConfig, lambda_package: LambdaPackage) -> dict[str, Any]:
    """Every environment's stack in one Testing app, synthesized once.

    Keys: ``<env>`` → the stack construct, ``<env>_json`` → its Testing.synth output.
    """
    from stacks.cdk import core
    from stacks.tap_stack import TapStack

    app = core.Testing.app()
    configs = [
        prod_config,
        load_config("dev", {"TAP_STATE_BUCKET": TEST_STATE_BUCKET}),
        load_config("local", {}),
    ]
    result: dict[str, Any] = {}
    for config in configs:
        stack = TapStack(app, config, lambda_package)
        result[config.environment] = stack
        result[f"{config.environment}_json"] = core.Testing.synth(stack)
    # The feature switches turned the other way, in an app of its own (stack ids are per app).
    switched = load_config(
        "dev",
        {
            "TAP_BACKEND": "local",
            "TAP_LAMBDA_IN_VPC": "false",
            "TAP_ENFORCE_IP_ALLOWLIST": "false",
            "TAP_ALARM_EMAILS": TEST_ALARM_EMAILS,
            "TAP_ALARM_TOPIC_ARN": TEST_ALARM_TOPIC,
            "TAP_CORS_ORIGIN": TEST_CORS_ORIGIN,
            "TAP_TABLE_INDEX_CHANGES": "true",
        },
    )
    result["switched_off_json"] = core.Testing.synth(TapStack(core.Testing.app(), switched, lambda_package))
    return result


@pytest.fixture(scope="session")
def replica_synth(lambda_package: LambdaPackage) -> tuple[Any, str]:
    """prod as it deploys with ``TAP_AUDIT_REPLICA_REGION`` set: (the stack, its Testing.synth JSON)."""
    from stacks.cdk import core
    from stacks.tap_stack import TapStack

    config = load_config(
        "prod",
        {
            "TAP_STATE_BUCKET": TEST_STATE_BUCKET,
            "TAP_ALARM_EMAILS": TEST_ALARM_EMAIL,
            "TAP_AUDIT_REPLICA_REGION": TEST_REPLICA_REGION,
        },
    )
    stack = TapStack(core.Testing.app(), config, lambda_package)
    return stack, core.Testing.synth(stack)


@pytest.fixture(scope="session")
def scale_synth(lambda_package: LambdaPackage) -> tuple[Any, str]:
    """prod as it deploys with ``TAP_PRESET=scale``: (the stack, its Testing.synth JSON)."""
    from stacks.cdk import core
    from stacks.tap_stack import TapStack

    config = load_config(
        "prod", {"TAP_STATE_BUCKET": TEST_STATE_BUCKET, "TAP_ALARM_EMAILS": TEST_ALARM_EMAIL, "TAP_PRESET": "scale"}
    )
    stack = TapStack(core.Testing.app(), config, lambda_package)
    return stack, core.Testing.synth(stack)


@pytest.fixture(scope="session")
def scale_stack_dir(scale_synth: tuple[Any, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That stack's folder in a full synth (cdk.tf.json and assets), for terraform."""
    return _full_synth_dir(scale_synth[0], tmp_path_factory.mktemp("scale"))


@pytest.fixture(scope="session")
def replica_stack(replica_synth: tuple[Any, str]) -> dict[str, Any]:
    """The production stack with an audit replica, parsed."""
    return json.loads(replica_synth[1])


def _full_synth_dir(stack: Any, folder: Path) -> Path:
    """A prod stack's folder in a full synth (cdk.tf.json and assets), copied into ``folder``."""
    from stacks.cdk import core

    shutil.copytree(Path(core.Testing.full_synth(stack)) / "stacks" / "prod", folder / "prod")
    return folder / "prod"


@pytest.fixture(scope="session")
def replica_stack_dir(replica_synth: tuple[Any, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That stack's folder in a full synth (cdk.tf.json and assets), for terraform."""
    return _full_synth_dir(replica_synth[0], tmp_path_factory.mktemp("replica"))


@pytest.fixture(scope="session")
def prod_synth(synthesized: dict[str, Any]) -> str:
    """The production stack as the JSON string Testing.synth returns (for Testing assertions)."""
    return synthesized["prod_json"]


@pytest.fixture(scope="session")
def prod_stack(prod_synth: str) -> dict[str, Any]:
    """The production stack's Terraform JSON, parsed."""
    return json.loads(prod_synth)


@pytest.fixture(scope="session")
def dev_stack(synthesized: dict[str, Any]) -> dict[str, Any]:
    return json.loads(synthesized["dev_json"])


@pytest.fixture(scope="session")
def local_stack(synthesized: dict[str, Any]) -> dict[str, Any]:
    return json.loads(synthesized["local_json"])


@pytest.fixture(scope="session")
def switched_off_stack(synthesized: dict[str, Any]) -> dict[str, Any]:
    """dev with the VPC placement and the IP allowlist off, three alarm addresses, an alarm topic, a CORS origin."""
    return json.loads(synthesized["switched_off_json"])


@pytest.fixture(scope="session")
def synthesized_dir(synthesized: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Full synths on disk (each stack's cdk.tf.json + assets, one folder per environment), for terraform."""
    from stacks.cdk import core

    stacks = tmp_path_factory.mktemp("synth")
    for env in ("prod", "dev", "local"):
        outdir = Path(core.Testing.full_synth(synthesized[env]))
        shutil.copytree(outdir / "stacks" / env, stacks / env)
    return stacks


@pytest.fixture(scope="session")
def prod_stack_dir(synthesized_dir: Path) -> Path:
    """The production stack's folder in the full synth."""
    return synthesized_dir / "prod"
