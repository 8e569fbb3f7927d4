"""Judge a plan: is every original resource kept, and is every change an expected one?

The rules (what is *bad*, when an attribute counts as changed, how a moved resource is
judged) are those of docs/migration.md, "What a check does", step 5.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from migration.addresses import Comparison, Move, resource_address
from migration.expected import Expected

#: Placeholder for a value the plan only knows after apply.
UNKNOWN = "(known after apply)"
SENSITIVE = "(sensitive)"
_EMPTY: tuple[Any, ...] = (None, "", [], {})
#: Longest rendered value before it is cut.
_WIDTH = 100


@dataclass(frozen=True)
class Detail:
    """One changed leaf: its path and both values, rendered for people."""

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class AttributeChange:
    name: str
    expected: bool
    changes: tuple[Detail, ...]


@dataclass(frozen=True)
class ResourceChange:
    """One resource's planned change; its fields, in order, are the ``--json`` report's."""

    address: str
    #: the address in the state when a ``moved`` block renamed the resource, else ""
    moved_from: str
    #: create, update, replace, destroy, or another Terraform action (forget …)
    action: str
    original: bool
    expected: bool
    problem: str
    replace_paths: tuple[str, ...]
    why: tuple[str, ...]
    attributes: tuple[AttributeChange, ...]


@dataclass
class Verdict:
    changes: list[ResourceChange]
    originals: tuple[str, ...]
    in_state: frozenset[str]
    kept: list[str] = field(default_factory=list)
    #: resources of the state the stack declares neither at their address nor through a move
    missing: tuple[str, ...] = ()
    #: renames: those the plan carries out, or (when there is no plan) those the stack declares
    moves: list[Move] = field(default_factory=list)
    #: why there is no plan to judge ("" when there is one)
    plan_error: str = ""

    @property
    def bad(self) -> list[ResourceChange]:
        return [c for c in self.changes if not c.expected]

    @property
    def ok(self) -> bool:
        return not self.bad and not self.missing and not self.plan_error

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def originals_kept(self) -> int:
        lost = {c.moved_from or c.address for c in self.changes if c.action not in ("update", "no-op")}
        lost.update(self.missing)
        return sum(1 for a in self.originals if a in self.in_state and a not in lost)

    @property
    def updated_originals(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.action == "update" and c.original]

    def summary(self) -> str:
        if self.plan_error:
            return (
                f"migration: {self.originals_kept}/{len(self.originals)} original resources kept, "
                f"{len(self.missing)} in the state but not in the stack; not planned (terraform could not plan)"
            )
        updated = self.updated_originals
        unexpected = sum(1 for c in updated if not c.expected)
        expectation = "all expected" if not unexpected else f"{unexpected} not expected"
        return (
            f"migration: {self.originals_kept}/{len(self.originals)} original resources kept "
            f"({len(updated)} updated in place, {expectation}), {self.count('create')} added, "
            f"{self.count('replace')} replaced, {self.count('destroy')} destroyed"
        )


def _normal(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):  # not JSON after all: the string itself
            return json.loads(value)
    return value


def _render(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def _leaves(before: Any, after: Any, unknown: Any, sensitive: tuple[Any, Any], path: str) -> list[Detail]:
    """The changed leaves below one attribute (scalars with both values; the rest summarized).

    ``sensitive`` holds the before_sensitive and after_sensitive trees: a leaf either marks is hidden."""
    hidden = any(tree is True for tree in sensitive)
    if unknown is True:
        return [Detail(path, SENSITIVE if hidden else _render(before), UNKNOWN)]
    before, after = _normal(before), _normal(after)
    if before in _EMPTY and after in _EMPTY:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after) | set(unknown if isinstance(unknown, dict) else {}))
        return [d for key in keys for d in _leaves(before.get(key), after.get(key), _at(unknown, key),
                                                   _sub(sensitive, key), f"{path}.{key}")]  # fmt: skip
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after, strict=True))
                for d in _leaves(b, a, _at(unknown, i), _sub(sensitive, i), f"{path}[{i}]")]  # fmt: skip
    if before == after:  # a scalar's after_unknown is true (above) or absent
        return []
    return [_summarized(before, after, hidden, path)]


def _at(tree: Any, key: str | int) -> Any:
    """The subtree of an after_unknown/sensitive tree at ``key`` (None where it has none)."""
    if isinstance(tree, dict) and isinstance(key, str):
        return tree.get(key)
    if isinstance(tree, list) and isinstance(key, int) and key < len(tree):
        return tree[key]
    return None


def _summarized(before: Any, after: Any, sensitive: bool, path: str) -> Detail:
    """One differing value: scalars (and lists of scalars) in full, structures by their size."""
    if sensitive:
        return Detail(path, SENSITIVE, SENSITIVE)
    if isinstance(before, list) or isinstance(after, list):
        items_b, items_a = (value if isinstance(value, list) else [] for value in (before, after))
        if all(not isinstance(x, (dict, list)) for x in items_b + items_a):
            return Detail(path, _render(before or []), _render(after or []))
        return Detail(path, f"{len(items_b)} item(s)", f"{len(items_a)} item(s)")
    if isinstance(before, dict) or isinstance(after, dict):
        return Detail(path, "{…}" if before else "none", "{…}" if after else "none")
    return Detail(path, _render(before), _render(after))


def _sub(trees: tuple[Any, Any], key: str | int) -> tuple[Any, Any]:
    """Both sensitivity trees at ``key``; a tree that is ``true`` marks everything below it."""
    before, after = (tree if tree is True else _at(tree, key) for tree in trees)
    return before, after


def changed_attributes(change: dict[str, Any]) -> dict[str, tuple[Detail, ...]]:
    """Top-level attribute → its changed leaves, for one resource's planned change."""
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    sensitive = (change.get("before_sensitive") or {}, change.get("after_sensitive") or {})
    result: dict[str, tuple[Detail, ...]] = {}
    for name in sorted(set(before) | set(after) | set(unknown)):
        details = _leaves(before.get(name), after.get(name), _at(unknown, name), _sub(sensitive, name), name)
        if details:
            result[name] = tuple(details)
    return result


def _action(actions: list[str]) -> str:
    """Terraform's actions of a resource change → the judge's name for them (delete and create: replace)."""
    if "delete" in actions and "create" in actions:
        return "replace"
    joined = "+".join(actions) or "no-op"
    return {"delete": "destroy", "read": "no-op"}.get(joined, joined)


def _judged(address: str, moved_from: str, action: str, change: dict[str, Any], expected: Expected) -> ResourceChange:
    """One planned change (not a no-op) against the expected changes of its address in the state."""
    in_state = moved_from or address
    is_original = in_state in expected.originals
    attributes: tuple[AttributeChange, ...] = ()
    paths: tuple[str, ...] = ()
    why: tuple[str, ...] = ()
    if action == "update":
        allowed = expected.may_change(in_state)
        attributes = tuple(
            AttributeChange(name, name in allowed, details) for name, details in changed_attributes(change).items()
        )
        strangers = [a.name for a in attributes if not a.expected]
        problem = f"attribute(s) not in the expected changes: {', '.join(strangers)}" if strangers else ""
        why = expected.reasons(in_state)
    elif action == "create":
        if is_original:
            problem = "an original resource missing from the state: it would be created a second time"
        elif (resource := resource_address(address)) in expected.added:  # a for_each instance: name["key"]
            problem, why = "", (expected.why_added(resource),)
        else:
            problem = "an addition the expected changes do not list"
    else:
        paths = tuple(".".join(str(p) for p in path) for path in change.get("replace_paths", []) or [])
        if action == "replace":
            problem = "replace: destroyed and created again" + (f" (forced by {', '.join(paths)})" if paths else "")
            # What forces the replacement and what else is known to change; not the values a new object recomputes.
            forcing = {p.split(".")[0] for p in paths}
            attributes = tuple(
                AttributeChange(name, False, shown)
                for name, details in changed_attributes(change).items()
                if (shown := tuple(d for d in details if name in forcing or d.after != UNKNOWN))
            )
        elif action == "destroy":
            problem = "destroy: in the state but not in the stack (renamed or removed?)"
        else:
            problem = f"{action}: an action a move must not take"
    return ResourceChange(address, moved_from, action, is_original, not problem, problem, paths, why, attributes)


def judge(
    plan: dict[str, Any] | None,
    expected: Expected,
    in_state: frozenset[str],
    comparison: Comparison,
    plan_error: str = "",
) -> Verdict:
    """The verdict on a plan of the stack against a state holding ``in_state``.

    ``comparison`` is the state's addresses against the stack's (its missing ones fail the
    verdict); without a plan (``None``), ``plan_error`` says why and only that is judged.
    """
    verdict = Verdict(changes=[], originals=expected.originals, in_state=in_state, missing=comparison.missing)
    if plan is None:
        verdict.plan_error = plan_error or "no plan"
        verdict.moves = list(comparison.moves)
        return verdict
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") != "managed":
            continue
        address, change = str(rc["address"]), rc.get("change", {})
        moved_from = str(rc.get("previous_address") or "")
        moved_from = "" if moved_from == address else moved_from
        if moved_from:
            verdict.moves.append(Move(moved_from, address))
        action = _action(list(change.get("actions", [])))
        judged = None if action == "no-op" else _judged(address, moved_from, action, change, expected)
        if judged is None or (action == "update" and not judged.attributes):
            verdict.kept.append(address)
        else:
            verdict.changes.append(judged)
    return verdict
