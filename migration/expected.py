"""The expected changes of a move from the original HCL: read from ``expected_changes.toml``.

The judge reads them through :func:`load_expected`; ``python -m migration.expected --write``
renders them as the tables of docs/deviations.md, ``--check`` exits 1 when those differ.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from workspace.paths import PROJECT

DATA_FILE = Path(__file__).with_name("expected_changes.toml")
DEVIATIONS_DOC = PROJECT / "docs" / "deviations.md"
BEGIN_MARK = "<!-- BEGIN generated from migration/expected_changes.toml by: python -m migration.expected --write -->"
END_MARK = "<!-- END generated -->"


class ExpectedDataError(ValueError):
    """expected_changes.toml is malformed; the message names the entry."""


@dataclass(frozen=True)
class Update:
    """One documented in-place change of one or more original resources."""

    addresses: tuple[str, ...]
    attributes: tuple[str, ...]
    change: str
    original: str
    new: str
    why: str


@dataclass(frozen=True)
class Addition:
    """Resources the stack adds for one concern."""

    concern: str
    addresses: tuple[str, ...]
    why: str
    when: str = ""


@dataclass(frozen=True)
class Expected:
    originals: tuple[str, ...]
    updates: tuple[Update, ...]
    additions: tuple[Addition, ...]

    def may_change(self, address: str) -> frozenset[str]:
        """The attributes of ``address`` that may change in place."""
        return frozenset(a for u in self.updates if address in u.addresses for a in u.attributes)

    def reasons(self, address: str) -> tuple[str, ...]:
        """The ``why`` of each update row naming ``address``."""
        return tuple(u.why for u in self.updates if address in u.addresses)

    @property
    def added(self) -> frozenset[str]:
        return frozenset(a for group in self.additions for a in group.addresses)

    def why_added(self, address: str) -> str:
        return next((a.why for a in self.additions if address in a.addresses), "")


def _strings(entry: dict[str, object], key: str, where: str, required: bool = True) -> tuple[str, ...]:
    value = entry.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ExpectedDataError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(value)


def _text(entry: dict[str, object], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise ExpectedDataError(f"{where}: '{key}' must be a non-empty string")
    return value


def load_expected(path: Path = DATA_FILE) -> Expected:
    """Parse and check the data file: every update names original addresses, no address is added twice."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExpectedDataError(f"{path.name}: {exc}") from None
    originals = _strings(raw.get("original", {}), "addresses", "[original]")
    updates: list[Update] = []
    for index, entry in enumerate(raw.get("update", []), 1):
        where = f"[[update]] #{index}"
        addresses = _strings(entry, "addresses", where)
        attributes = _strings(entry, "attributes", where, required=False)
        strangers = [a for a in addresses if a not in originals]
        if strangers:
            raise ExpectedDataError(f"{where}: {', '.join(strangers)} is not an original address")
        change = _text(entry, "change", where, _code(attributes) or None)
        updates.append(
            Update(addresses, attributes, change, *(_text(entry, k, where) for k in ("original", "new", "why")))
        )
    additions: list[Addition] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw.get("added", []), 1):
        where = f"[[added]] #{index}"
        addresses = _strings(entry, "addresses", where)
        twice = [a for a in addresses if a in seen or a in originals]
        if twice:
            raise ExpectedDataError(f"{where}: {', '.join(twice)} is listed twice or is an original address")
        seen.update(addresses)
        concern, why, when = (_text(entry, k, where, d) for k, d in (("concern", None), ("why", None), ("when", "")))
        additions.append(Addition(concern, addresses, why, when))
    return Expected(originals, tuple(updates), tuple(additions))


def _code(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render_tables(expected: Expected) -> str:
    """The two tables of docs/deviations.md, as Markdown."""
    lines = [
        "### In-place updates of original resources",
        "",
        '"In the plan" names the attributes a plan may show changing; "—" marks a change that',
        "leaves the state alone (a lifecycle rule, a setting that keeps its value in prod).",
        "",
        "| address | change | original | new | why | in the plan |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row([_code(u.addresses), u.change, u.original, u.new, u.why, _code(u.attributes) or "—"])
              for u in expected.updates]  # fmt: skip
    total = sum(len(a.addresses) for a in expected.additions)
    lines += [
        "",
        f'### Added resources ({total} may be added; which depends on the settings in "only with")',
        "",
        "| concern | addresses | only with | why |",
        "| --- | --- | --- | --- |",
    ]
    lines += [_row([a.concern, _code(a.addresses), a.when or "—", a.why]) for a in expected.additions]
    return "\n".join(lines) + "\n"


def with_tables(document: str, tables: str) -> str:
    """``document`` with the text between the generated-section marks replaced by ``tables``."""
    begin = document.find(BEGIN_MARK)
    end = document.find(END_MARK)
    if begin < 0 or end < begin:
        raise ExpectedDataError(f"docs/deviations.md has no generated section ({BEGIN_MARK} … {END_MARK})")
    return document[: begin + len(BEGIN_MARK)] + "\n\n" + tables + "\n" + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m migration.expected", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the tables in docs/deviations.md")
    mode.add_argument("--check", action="store_true", help="exit 1 when docs/deviations.md differs from the data")
    args = parser.parse_args(argv)
    try:
        document = DEVIATIONS_DOC.read_text(encoding="utf-8")
        wanted = with_tables(document, render_tables(load_expected()))
    except (OSError, ExpectedDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write:
        DEVIATIONS_DOC.write_text(wanted, encoding="utf-8")
        return 0
    if wanted != document:
        print("docs/deviations.md differs from migration/expected_changes.toml: python -m migration.expected --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
