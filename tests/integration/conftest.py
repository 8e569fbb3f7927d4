"""Integration tests: the local platform (emulator, Terraform, API server) end to end.

``deployment`` is the local platform deployed once for the whole session (minutes), shared
by every end-to-end module (test_local_e2e.py, test_rollout_e2e.py) and torn down, with
checks that nothing is left, when the session ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.paths import LocalPaths
from tests.integration.local_deployment import Deployment
from workspace.processes import free_port
from workspace.terraform import TerraformMissing, terraform_binary


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: deploys the whole stack to the local emulator and calls it over HTTP (minutes)"
    )


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    try:
        terraform_binary()
    except TerraformMissing as exc:
        pytest.skip(str(exc))
    root = tmp_path_factory.mktemp("tap-local") / "local"
    env = dict(os.environ, TAP_LOCAL_DIR=str(root))
    for name in ("TAP_EMULATOR_PORT", "TAP_API_PORT", "TAP_EMULATOR_ENDPOINT", "TAP_ENVIRONMENTS"):
        env.pop(name, None)
    paths = LocalPaths(root=root, outdir=root / "cdktf.out")
    emulator_port = free_port()
    api_port = free_port()
    while api_port == emulator_port:
        api_port = free_port()
    deployment = Deployment(paths, env, emulator_port, api_port)
    try:
        deployment.start()
        yield deployment
        deployment.tear_down_and_check()
    finally:
        deployment.cleanup()
