"""Before any plan: does the stack still declare every resource address the state holds?

Read from the stack's Terraform JSON alone (its ``resource`` and ``moved`` blocks), so the
guard names each renamed or removed address even when Terraform cannot plan
(docs/migration.md, "Renaming a resource").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration.errors import CannotJudge

#: The stack's Terraform JSON in a synthesized stack folder.
STACK_FILE = "cdk.tf.json"
#: An instance key at the end of an address: ``aws_subnet.private[0]``, ``aws_x.y["a"]``.
_INSTANCE_KEY = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]$')


@dataclass(frozen=True)
class Move:
    """A ``moved`` block: the state's resource at ``source`` belongs to ``target`` now."""

    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


@dataclass(frozen=True)
class StackAddresses:
    """The managed resources a synthesized stack declares, and its ``moved`` blocks."""

    resources: frozenset[str]
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class Comparison:
    """The state's addresses against the stack's: what is gone, and which moves keep an address."""

    missing: tuple[str, ...]
    moves: tuple[Move, ...]


def resource_address(address: str) -> str:
    """``aws_subnet.private[0]`` → ``aws_subnet.private`` (a ``moved`` block or a resource block's address)."""
    return _INSTANCE_KEY.sub("", address)


def stack_addresses(document: dict[str, Any]) -> StackAddresses:
    """The resources (``type.name``) and moves of a stack's Terraform JSON."""
    resources = frozenset(
        f"{kind}.{name}"
        for kind, items in (document.get("resource") or {}).items()
        if isinstance(items, dict)
        for name in items
    )
    blocks = document.get("moved") or []
    moves = tuple(
        Move(str(block["from"]), str(block["to"]))
        for block in (blocks if isinstance(blocks, list) else [blocks])
        if isinstance(block, dict) and "from" in block and "to" in block
    )
    return StackAddresses(resources, moves)


def read_stack(stack_dir: Path) -> StackAddresses:
    """:func:`stack_addresses` of ``stack_dir/cdk.tf.json``, or a one-line refusal."""
    path = stack_dir / STACK_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CannotJudge(f"{stack_dir} holds no {STACK_FILE}", "synthesize first (make synth)") from None
    except (OSError, ValueError) as exc:
        raise CannotJudge(f"cannot read {path}: {exc}", "synthesize again (make synth)") from None
    if not isinstance(document, dict):
        raise CannotJudge(f"{path} is not a stack's Terraform JSON", "synthesize again (make synth)")
    return stack_addresses(document)


def _destination(address: str, moves: dict[str, str]) -> str:
    """Where ``address`` ends up after following the moves (Terraform chains them; a loop ends it)."""
    seen = {address}
    while address in moves and moves[address] not in seen:
        address = moves[address]
        seen.add(address)
    return address


def compare(state_addresses: tuple[str, ...] | frozenset[str], stack: StackAddresses) -> Comparison:
    """Which resources of the state the stack no longer declares, and the moves that keep the others.

    Instance keys are ignored (``aws_subnet.private[0]`` is kept by ``aws_subnet.private``).
    """
    by_source = {resource_address(m.source): resource_address(m.target) for m in stack.moves}
    missing: list[str] = []
    used: list[Move] = []
    for address in sorted({resource_address(a) for a in state_addresses}):
        if address in stack.resources:
            continue
        destination = _destination(address, by_source)
        if destination != address and destination in stack.resources:
            used.append(Move(address, destination))
        else:
            missing.append(address)
    return Comparison(tuple(missing), tuple(used))
