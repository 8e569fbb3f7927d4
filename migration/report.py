"""A verdict for people (a readable report ending with the summary line) and for programs (JSON)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from migration.judge import ResourceChange, Verdict

#: Additions named in the short report before "and N more".
_SHOWN_ADDITIONS = 4
_LABEL = {"update": "update", "create": "add", "replace": "REPLACE", "destroy": "DESTROY"}


def _resource_lines(change: ResourceChange, verbose: bool) -> list[str]:
    mark = "expected  " if change.expected else "NOT OK    "
    label = _LABEL.get(change.action, change.action.upper())
    lines = [f"{mark}{label:<8} {change.address}" + (f"  -- {change.problem}" if change.problem else "")]
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
    verdict_line = (
        "verdict: safe to move (nothing original destroyed or replaced; every change expected)"
        if verdict.ok
        else f"verdict: NOT safe to move: {len(bad)} change(s) above are not allowed"
    )
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
        "changes": [asdict(c) for c in verdict.changes],
        "kept": sorted(verdict.kept),
    }
