"""docs/runbooks.md read as data: its sections, the dashboard widgets each names, and the
fields each CloudWatch Logs Insights query uses (tests check them against the stack and
against what the handler really logs)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from workspace.paths import PROJECT

RUNBOOKS = PROJECT / "docs" / "runbooks.md"
#: Info strings of the fenced query blocks: over the function's log group, over the access log.
HANDLER_QUERY, ACCESS_QUERY = "logs-insights", "logs-insights-access"
#: Fields Logs Insights adds to every log event.
INSIGHTS_FIELDS = frozenset({"@timestamp", "@message", "@logStream", "@log", "@requestId"})
_KEYWORDS = frozenset(
    {"fields", "filter", "stats", "sort", "limit", "display", "dedup", "by", "as", "and", "or", "not", "in", "like",
     "asc", "desc"}
)  # fmt: skip
_FUNCTIONS = frozenset(
    {"count", "count_distinct", "sum", "avg", "min", "max", "pct", "stddev", "bin", "ispresent", "isempty",
     "isblank", "earliest", "latest", "strlen", "tolower", "toupper", "concat", "abs", "floor", "ceil"}
)  # fmt: skip
_FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_LITERALS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|(?<=like)\s*/(?:[^/\\]|\\.)*/')
_TOKEN = re.compile(r"`([^`]+)`|(\d[\w.]*)|([@A-Za-z_][\w.]*)(\s*\()?")
_WIDGETS = re.compile(r"Dashboard widgets?:((?:\s*\"[^\"]+\",?)+)")


@dataclass
class Section:
    """One ``## `` section: its anchor, text, queries by info string, widget titles."""

    heading: str
    text: str = ""
    queries: dict[str, list[str]] = field(default_factory=dict)
    widgets: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return slug(self.heading)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def sections(text: str | None = None) -> dict[str, Section]:
    """The document's ``## `` sections by anchor."""
    text = RUNBOOKS.read_text(encoding="utf-8") if text is None else text
    found: dict[str, Section] = {}
    for chunk in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = chunk.partition("\n")
        section = Section(heading, body)
        for info, query in _FENCE.findall(body):
            section.queries.setdefault(info, []).append(query)
        for match in _WIDGETS.finditer(re.sub(r"\s*\n\s*", " ", body)):
            section.widgets += re.findall(r'"([^"]+)"', match[1])
        found[section.anchor] = section
    return found


def query_fields(query: str) -> set[str]:
    """The fields a Logs Insights query reads (aliases it defines with ``as`` left out).

    Raises ValueError for a function this reader does not know, so a new one is looked at.
    """
    body = _LITERALS.sub(" ", query)
    names: list[str] = []
    aliases: set[str] = set()
    after_as = False
    for quoted, number, word, call in _TOKEN.findall(body):
        if number:
            continue
        name = quoted or word
        if call:
            if name not in _FUNCTIONS:
                raise ValueError(f"unknown Logs Insights function {name}()")
        elif after_as:
            aliases.add(name)
        elif quoted or name not in _KEYWORDS:
            names.append(name)
        after_as = word == "as"
    return set(names) - aliases


def read_runbooks(path: Path = RUNBOOKS) -> dict[str, Section]:
    """:func:`sections` of a runbook file."""
    return sections(path.read_text(encoding="utf-8"))
