"""Every alarm of the synthesized prod stack points at its section of docs/runbooks.md, and
each section names dashboard widgets that exist and gives Logs Insights queries.

(The fields those queries use are checked against the handler's real log lines in
tests/function/test_runbook_queries.py.)
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stacks.api import ACCESS_LOG_FORMAT
from testkit.runbooks import ACCESS_QUERY, HANDLER_QUERY, INSIGHTS_FIELDS, RUNBOOKS, Section, query_fields, sections
from tests.unit.helpers import jsonencoded

_POINTER = re.compile(r"Runbook: docs/runbooks\.md#([a-z0-9-]+)$")


def alarm_sections(stack: dict[str, Any]) -> dict[str, str]:
    """alarm address → the runbook anchor its description ends with."""
    found = {}
    for name, alarm in stack["resource"]["aws_cloudwatch_metric_alarm"].items():
        match = _POINTER.search(alarm["alarm_description"])
        assert match, f"{name}: the description names no runbook section"
        found[name] = match[1]
    return found


def widget_titles(stack: dict[str, Any]) -> set[str]:
    body = jsonencoded(stack["resource"]["aws_cloudwatch_dashboard"]["main"]["dashboard_body"])
    return {widget["properties"]["title"] for widget in body["widgets"]}


def missing_sections(stack: dict[str, Any], documented: dict[str, Section]) -> dict[str, str]:
    """alarm address → anchor, for each alarm whose section is not in ``documented``."""
    return {name: anchor for name, anchor in alarm_sections(stack).items() if anchor not in documented}


def test_every_alarm_has_its_runbook_section(prod_stack: dict[str, Any]) -> None:
    anchors = alarm_sections(prod_stack)
    assert len(anchors) == 8, sorted(anchors)
    assert len(set(anchors.values())) == len(anchors), "two alarms share a section"
    documented = sections()
    missing = missing_sections(prod_stack, documented)
    assert not missing, f"alarms whose runbook section is missing from docs/runbooks.md: {missing}"
    for name, anchor in anchors.items():
        alarm_name = prod_stack["resource"]["aws_cloudwatch_metric_alarm"][name]["alarm_name"]
        assert f"`{alarm_name}`" in documented[anchor].text, f"section #{anchor} does not name {alarm_name}"


def test_each_alarm_section_names_real_widgets_and_gives_queries(prod_stack: dict[str, Any]) -> None:
    titles = widget_titles(prod_stack)
    documented = sections()
    for anchor in alarm_sections(prod_stack).values():
        section = documented[anchor]
        assert section.widgets, f"#{anchor} names no dashboard widget"
        assert set(section.widgets) <= titles, f"#{anchor}: no such widget {set(section.widgets) - titles}"
        assert section.queries.get(HANDLER_QUERY), f"#{anchor} has no Logs Insights query over the handler's log"


def test_a_missing_section_is_reported(prod_stack: dict[str, Any]) -> None:
    """The check above fails for the right reason when a section is renamed away."""
    text = RUNBOOKS.read_text(encoding="utf-8").replace("## API latency p95\n", "## API latency\n")
    assert missing_sections(prod_stack, sections(text)) == {"api_latency_p95": "api-latency-p95"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ('filter message = "request" and status >= 500 | stats count(*) as n by error_code, bin(5m)',
         {"message", "status", "error_code"}),
        ("fields @timestamp, `OldestPendingTaskAgeSeconds.0` | sort @timestamp desc | limit 5",
         {"@timestamp", "OldestPendingTaskAgeSeconds.0"}),
        ("filter @message like /Task timed out|x/ | stats pct(latency_ms, 95) as p95 by action | sort p95 desc",
         {"@message", "latency_ms", "action"}),
    ],
)  # fmt: skip
def test_the_query_reader_finds_fields_not_aliases_or_literals(query: str, fields: set[str]) -> None:
    assert query_fields(query) == fields


def test_the_query_reader_refuses_an_unknown_function() -> None:
    with pytest.raises(ValueError, match=r"unknown Logs Insights function percentile\(\)"):
        query_fields("stats percentile(latency_ms, 95)")


def test_access_log_queries_name_only_access_log_fields() -> None:
    known = set(json.loads(ACCESS_LOG_FORMAT)) | INSIGHTS_FIELDS
    queries = [(a, q) for a, section in sections().items() for q in section.queries.get(ACCESS_QUERY, [])]
    assert queries
    unknown = {(anchor, name) for anchor, query in queries for name in query_fields(query) - known}
    assert not unknown, f"access log queries name fields the access log does not have: {sorted(unknown)}"
