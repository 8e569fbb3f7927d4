"""Count the product code's Python lines, as the structure issue measures them, at any commit.

For each folder: all lines (``wc -l``), and of them code, docstring, comment and blank lines
(by Python's tokenizer). The last row, "no prose", is the same code with every docstring and
comment removed and formatted again with the project's ruff settings: the fewest lines the
code itself takes, without one word of explanation.

    .venv/bin/python -m bench.code_size [--rev HEAD] [--folders function stacks ...]

The commit's files are read with ``git show``, so the working tree is never touched.
"""

from __future__ import annotations

import argparse
import ast
import io
import subprocess
import sys
import tempfile
import tokenize
from collections import Counter
from pathlib import Path

from workspace.paths import PROJECT

#: The folders the issue names, plus workspace/ (the shared module the restructuring made).
FOLDERS = ("function", "stacks", "local", "migration", "tap", "workspace", "main.py")
KINDS = ("code", "docstring", "comment", "blank")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=PROJECT, check=True, capture_output=True, text=True).stdout


def kinds(source: str) -> Counter[str]:
    """How many lines of ``source`` are code, docstring, comment or blank."""
    code: set[int] = set()
    prose: dict[int, str] = {}
    last = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        rows = range(token.start[0], token.end[0] + 1)
        if token.type == tokenize.COMMENT:
            prose.setdefault(token.start[0], "comment")
        elif token.type == tokenize.STRING and last in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            prose.update(dict.fromkeys(rows, "docstring"))  # a statement that is only a string
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            code.update(rows)
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            last = token.type
    lines = source.splitlines()
    return Counter(
        "blank" if not line.strip() else "code" if n in code else prose.get(n, "code")
        for n, line in enumerate(lines, 1)
    )


def without_prose(source: str) -> str:
    """``source`` without docstrings (a body left empty becomes ``...``) and comments."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        documented = isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        if documented and ast.get_docstring(node, clean=False) is not None:
            node.body = node.body[1:] or [ast.Expr(ast.Constant(...))]
    return ast.unparse(tree) + "\n"


def measure(rev: str, folders: tuple[str, ...]) -> dict[str, Counter[str]]:
    """Per folder, the kinds of its lines at ``rev``, and the folders' total with no prose."""
    rows: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp)
        for name in _git("ls-tree", "-r", "--name-only", rev, "--", *folders).splitlines():
            if not name.endswith(".py"):
                continue
            source = _git("show", f"{rev}:{name}")
            folder = name.split("/")[0] if "/" in name else name
            rows.setdefault(folder, Counter()).update(kinds(source))
            (bare / name).parent.mkdir(parents=True, exist_ok=True)
            (bare / name).write_text(without_prose(source))
        (bare / "pyproject.toml").write_text(_git("show", f"{rev}:pyproject.toml"))
        subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", "."], cwd=bare, check=True)
        rows["no prose"] = Counter(code=sum(len(p.read_text().splitlines()) for p in bare.rglob("*.py")))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD", help="the commit to measure (default HEAD)")
    parser.add_argument("--folders", nargs="+", default=list(FOLDERS), help="folders and files to count")
    args = parser.parse_args(argv)
    rows = measure(args.rev, tuple(args.folders))
    floor = rows.pop("no prose")
    total: Counter[str] = sum(rows.values(), Counter())
    print(f"commit {_git('rev-parse', '--short', args.rev).strip()}\n")
    print("| folder | lines | " + " | ".join(KINDS) + " |\n| --- |" + " ---: |" * (len(KINDS) + 1))
    for folder, counts in [*sorted(rows.items()), ("**all**", total)]:
        print(f"| {folder} | {counts.total():,} | " + " | ".join(f"{counts[k]:,}" for k in KINDS) + " |")
    print(f"\nthe same code without docstrings and comments, formatted again: {floor['code']:,} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
