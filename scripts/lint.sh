#!/usr/bin/env bash
# make lint: the Python lint and type gate; every part must report nothing.
#
#   ruff check            rules and per-file ignores (each with its reason) in pyproject.toml
#   ruff format --check   formatting, same settings
#   mypy --strict         on each typed package: stacks/ function/ local/ migration/ tap/ (a folder
#                         that does not exist is skipped)
#
# Every part runs even when an earlier one fails, so one run shows all findings; the exit
# status is non-zero if any part failed. PYTHON (default .venv/bin/python) names the
# interpreter that has ruff and mypy installed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-.venv/bin/python}"
TYPED=(stacks function local migration tap)

failed=()
run() {
    local name="$1"
    shift
    echo "lint: $name"
    "$@" || failed+=("$name")
}

run "ruff check" "$PYTHON" -m ruff check .
run "ruff format --check" "$PYTHON" -m ruff format --check .
# One mypy run per folder: function/ is the Lambda package root (its modules import each other
# by plain name) and stacks/ imports it as a package, so one run would see contract.py twice.
present=()
for folder in "${TYPED[@]}"; do
    if [[ -d "$folder" ]]; then
        present+=("$folder")
        run "mypy --strict $folder" "$PYTHON" -m mypy --strict "$folder"
    else
        echo "lint: mypy skips $folder/ (not in this tree)"
    fi
done

if (( ${#failed[@]} )); then
    printf 'lint: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "lint: OK (ruff check, ruff format --check, mypy --strict on ${present[*]/%//})"
