"""bench.capacity_model: docs/capacity.md's arithmetic prices the table and every index the
mixed-load report measured (the report's columns, not a list of its own), and a report it
cannot read is refused in one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import capacity_model
from function import contract
from stacks.preset import PRESETS

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "benchmarks-mixed.md"
RESOURCES = ("table", *(index.name for index in contract.INDEXES))


def priced(output: str) -> set[str]:
    """The resources the `original` preset's limits name."""
    return {resource for resource in RESOURCES if f"`{resource}` WCU (ceiling)" in output}


def without(report: str, resource: str) -> str:
    """``report`` with ``resource``'s columns taken out of its cost table."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| request type |"))
    keep = [not cell.strip().startswith(resource) for cell in lines[start].split("|")]
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    for i in range(start, end):
        lines[i] = "|".join(cell for cell, kept in zip(lines[i].split("|"), keep, strict=True) if kept)
    return "\n".join(lines)


def test_the_committed_report_prices_the_table_and_every_index_for_every_preset(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert capacity_model.main(["--report", str(REPORT)]) == 0
    output = capsys.readouterr().out
    assert priced(output) == set(RESOURCES)
    assert all(f"`{resource}` WRU on demand at once" in output for resource in RESOURCES)
    assert output.count("admits **") == len(PRESETS)


def test_a_report_of_fewer_indexes_is_priced_with_those(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "two-indexes.md"
    report.write_text(without(REPORT.read_text(), contract.SHARD_INDEX.name))
    assert capacity_model.main(["--report", str(report)]) == 0
    assert priced(capsys.readouterr().out) == set(RESOURCES) - {contract.SHARD_INDEX.name}


@pytest.mark.parametrize("text", [None, "# a report without its cost table\n"])
def test_a_report_it_cannot_read_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None
) -> None:
    report = tmp_path / "report.md"
    if text is not None:
        report.write_text(text)
    assert capacity_model.main(["--report", str(report)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith(f"capacity_model: {report}: ")
