"""A verdict for people (a readable report ending with the summary line) and for programs (JSON)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from migration.judge import ResourceChange, Verdict

#: Additions named in the short report before "and N more".
_SHOWN_ADDITIONS = 4
_RENAME_HINT = (
    "          a rename keeps its resource when the stack declares the move: "
    'new_resource.move_from_id("<old address>") (CDKTF writes a Terraform moved block)'
)
_LABEL = {"update": "update", "create": "add", "replace": "REPLACE", "destroy": "DESTROY"}


def _resource_lines(change: ResourceChange, verbose: bool) -> list[str]:
    mark = "expected  " if change.expected else "NOT OK    "
    label = _LABEL.get(change.action, change.action.upper())
    moved = f" (moved from {change.moved_from})" if change.moved_from else ""
    lines = [f"{mark}{label:<8} {change.address}{moved}" + (f"  -- {change.problem}" if change.problem else "")]
    for attribute in change.attributes:
        note = "expected" if attribute.expected else "NOT EXPECTED"
        shown = attribute.changes if verbose or not attribute.expected else attribute.changes[:3]
        for detail in shown:
            lines.append(f"              {detail.path}: {detail.before} -> {detail.after}   [{note}]")
        hidden = len(attribute.changes) - len(shown)
        if hidden:
            lines.append(f"              {attribute.name}: … {hidden} more changed value(s)   [{note}]")
    return lines


def text_report(verdict: Verdict, header: list[str], verbose: bool = False) -> str:
    """The report: header, what is wrong, the expected updates, the additions, then the summary line."""
    lines = list(header)
    if verdict.missing:
        lines += ["", f"In your state, not in the stack ({len(verdict.missing)}):"]
        lines += [f"NOT OK    in your state, not in the stack: {a} (renamed or removed?)" for a in verdict.missing]
        lines.append(_RENAME_HINT)
    if verdict.plan_error:
        lines += ["", f"not planned: {verdict.plan_error}", "(the plan is judged once every address above is kept)"]
    if verdict.moves:
        lines += ["", f"Moves ({len(verdict.moves)}), declared by moved blocks in the stack:"]
        lines += [f"moved: {move}" for move in verdict.moves]
    bad = verdict.bad
    if bad:
        lines += ["", f"Changes that are not allowed ({len(bad)}):"]
        for change in bad:
            lines += _resource_lines(change, verbose=True)
    updates = [c for c in verdict.changes if c.expected and c.action == "update"]
    if updates:
        lines += ["", f"Expected in-place updates ({len(updates)}), see docs/deviations.md:"]
        for change in updates:
            lines += _resource_lines(change, verbose)
    added = [c for c in verdict.changes if c.expected and c.action == "create"]
    if added:
        lines += ["", f"Expected additions ({len(added)}):"]
        if verbose:
            lines += [f"expected  add      {c.address}" for c in added]
        else:
            more = len(added) - _SHOWN_ADDITIONS
            named = ", ".join(c.address for c in added[:_SHOWN_ADDITIONS])
            lines.append("          " + named + (f" and {more} more" if more > 0 else ""))
    if verdict.ok:
        verdict_line = "verdict: safe to move (nothing original destroyed or replaced; every change expected)"
    else:
        reasons = [f"{len(verdict.missing)} resource(s) of the state not in the stack"] if verdict.missing else []
        reasons += [f"{len(bad)} change(s) above are not allowed"] if bad or not reasons else []
        verdict_line = f"verdict: NOT safe to move: {'; '.join(reasons)}"
    lines += ["", verdict_line, verdict.summary()]
    return "\n".join(lines)


def json_report(verdict: Verdict, extra: dict[str, Any]) -> dict[str, Any]:
    """Everything the text report says, as data (``--json``)."""
    return {
        **extra,
        "ok": verdict.ok,
        "summary": verdict.summary(),
        "originals": {
            "total": len(verdict.originals),
            "in_state": sum(1 for a in verdict.originals if a in verdict.in_state),
            "kept": verdict.originals_kept,
            "updated_in_place": len(verdict.updated_originals),
        },
        "counts": {a: verdict.count(a) for a in ("update", "create", "replace", "destroy")},
        "missing": list(verdict.missing),
        "moves": [{"from": m.source, "to": m.target} for m in verdict.moves],
        "plan_error": verdict.plan_error,
        "changes": [asdict(c) for c in verdict.changes],
        "kept": sorted(verdict.kept),
    }
