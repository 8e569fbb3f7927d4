"""What ``make hcl`` mends in the HCL that CDKTF 0.21's renderer writes, whatever the stack feeds it.

The renderer (``cdktf/lib/hcl/render.js``, run by ``SYNTH_HCL_OUTPUT=true``, the switch
``cdktf synth --hcl`` sets) writes every string of a meta-argument between quotes, and a
lifecycle's custom conditions as a list attribute. Neither can be avoided from the stack
without changing the synthesized JSON, so each is mended here, one :class:`Rule` each:

* ``quoted-references``: ``depends_on``, ``provider``, ``lifecycle.ignore_changes`` and
  ``lifecycle.replace_triggered_by`` name objects, not strings. Terraform warns "Quoted
  references are deprecated" for the first three and refuses the fourth ("Invalid
  replace_triggered_by expression").
* ``condition-blocks``: ``precondition = [{…}]`` must be ``precondition {…}`` blocks
  (Terraform: "Unsupported argument").

The rules read ``terraform fmt``'s layout (two spaces a level, one element a line, as the
renderer writes lists) and raise :class:`RendererChanged` when they meet their construct in
a shape they do not know: better to stop than to write HCL Terraform reads differently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final


class RendererChanged(Exception):
    """A construct a rule mends is written in a shape the rule does not know."""


@dataclass(frozen=True)
class Rule:
    name: str
    #: What ``terraform validate`` reports, (severity, summary), when the rule is left out.
    defects: frozenset[tuple[str, str]]
    mend: Callable[[str], str]


_TOP_LEVEL: Final = re.compile(r'^(resource|data) "[^"]+" "[^"]+" \{$|^(module|output) "[^"]+" \{$')
_LIFECYCLE: Final = "lifecycle {"
_HEREDOC: Final = re.compile(r"<<-?([A-Za-z_]\w*)$")
#: A reference as Terraform reads one: ``aws_vpc.main``, ``aws.replica``, ``tags["Name"]``, ``items[0]``.
_REFERENCE: Final = re.compile(r'[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"]*"\])*')
_QUOTED: Final = re.compile(r'"(?:[^"\\]|\\.)*"')
_LIST: Final = re.compile(
    r"^( *)(depends_on|ignore_changes|replace_triggered_by|precondition|postcondition)( *)= (.*)$"
)
_PROVIDER: Final = re.compile(r"^( *)provider( *)= (.*)$")


def _parents(lines: list[str]) -> list[str | None]:
    """For each line, the (stripped) line opening the block, object or list it sits in; None
    at the top level and inside heredocs. fmt indents every nested line deeper than its opener."""
    openers: list[tuple[int, str]] = []
    parents: list[str | None] = []
    heredoc_end: str | None = None
    for line in lines:
        stripped = line.strip()
        if heredoc_end is not None:
            parents.append(None)
            heredoc_end = None if stripped == heredoc_end else heredoc_end
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stripped and openers and openers[-1][0] >= indent:
            openers.pop()
        parents.append(openers[-1][1] if openers else None)
        if stripped.endswith(("{", "[", "(")):
            openers.append((indent, stripped))
        heredoc = _HEREDOC.search(stripped)
        heredoc_end = heredoc.group(1) if heredoc else None
    return parents


def _wanted(name: str, parent: str | None) -> bool:
    """Whether an attribute ``name`` under ``parent`` is the meta-argument a rule mends."""
    if name in ("depends_on", "provider"):
        return parent is not None and _TOP_LEVEL.match(parent) is not None
    if name in ("ignore_changes", "replace_triggered_by"):
        return parent == _LIFECYCLE
    # precondition, postcondition: a resource's or data source's lifecycle, or an output.
    return parent == _LIFECYCLE or (parent is not None and parent.startswith("output "))


def _list_end(lines: list[str], start: int, indent: str) -> int:
    """The index of the ``]`` closing the list opened on line ``start``."""
    for index in range(start + 1, len(lines)):
        if lines[index] == f"{indent}]":
            return index
    raise RendererChanged(f"the list opened by {lines[start].strip()!r} has no closing ']' at its indentation")


def _bare(literal: str, where: str) -> str:
    """A quoted (or already bare) reference, bare."""
    text = literal
    if _QUOTED.fullmatch(literal):
        text = json.loads(literal)
    if not _REFERENCE.fullmatch(text):
        raise RendererChanged(f"{where}: {literal} is not a quoted reference")
    return text


def _rewrite_lists(text: str, names: tuple[str, ...], rewrite: Callable[[str, str, list[str]], list[str]]) -> str:
    """``text`` with every list attribute in ``names`` that stands where it is a meta-argument
    replaced by ``rewrite(indent, name, its element lines)``."""
    lines = text.split("\n")
    parents = _parents(lines)
    out: list[str] = []
    index = 0
    while index < len(lines):
        listed = _LIST.match(lines[index])
        if not (listed and listed[2] in names and _wanted(listed[2], parents[index])):
            out.append(lines[index])
            index += 1
            continue
        indent, name, _, value = listed.groups()
        if value != "[":
            raise RendererChanged(f"{name} is written as {value!r}, not as a list of one element a line")
        end = _list_end(lines, index, indent)
        out.extend(rewrite(indent, name, lines[index + 1 : end]))
        index = end + 1
    return "\n".join(out)


def _bare_list(indent: str, name: str, elements: list[str]) -> list[str]:
    bare = [f"{indent}  {_bare(element.strip().removesuffix(','), name)}," for element in elements]
    return [f"{indent}{name} = [", *bare, f"{indent}]"]


def unquote_references(text: str) -> str:
    """``depends_on``/``ignore_changes``/``replace_triggered_by`` elements and ``provider`` unquoted."""
    lines = _rewrite_lists(text, ("depends_on", "ignore_changes", "replace_triggered_by"), _bare_list).split("\n")
    for index, (line, parent) in enumerate(zip(lines, _parents(lines), strict=True)):
        provider = _PROVIDER.match(line)
        if provider and _wanted("provider", parent):
            indent, gap, value = provider.groups()
            lines[index] = f"{indent}provider{gap}= {_bare(value, 'provider')}"
    return "\n".join(lines)


def _blocks(indent: str, name: str, elements: list[str]) -> list[str]:
    """``{`` … ``},`` objects, one after the other, as ``name {`` … ``}`` blocks."""
    opens = [i for i, line in enumerate(elements) if line == f"{indent}  {{"]
    closes = [i for i, line in enumerate(elements) if line == f"{indent}  }},"]
    if not opens or opens[0] != 0 or [i - 1 for i in opens[1:]] + [len(elements) - 1] != closes:
        raise RendererChanged(f"{name} is not a list of objects, one after the other: {elements!r}")
    out = []
    for first, last in zip(opens, closes, strict=True):
        out.append(f"{indent}{name} {{")
        out.extend(line.removeprefix("  ") for line in elements[first + 1 : last])
        out.append(f"{indent}}}")
    return out


def condition_blocks(text: str) -> str:
    """``precondition = [{…}, …]`` (and ``postcondition``) as one block per condition."""
    return _rewrite_lists(text, ("precondition", "postcondition"), _blocks)


RULES: Final = (
    Rule(
        "quoted-references",
        frozenset(
            {("warning", "Quoted references are deprecated"), ("error", "Invalid replace_triggered_by expression")}
        ),
        unquote_references,
    ),
    Rule("condition-blocks", frozenset({("error", "Unsupported argument")}), condition_blocks),
)


def mend(text: str, rules: tuple[Rule, ...] = RULES) -> str:
    """``text`` (formatted by ``terraform fmt``) with every rule applied, in order."""
    for rule in rules:
        text = rule.mend(text)
    return text
