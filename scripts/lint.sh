#!/usr/bin/env bash
# make lint: the Python lint, type and layering gate; every part must report nothing.
#
#   ruff check            rules and per-file ignores (each with its reason) in pyproject.toml
#   ruff format --check   formatting, same settings
#   mypy --strict         one run over the typed tree ([tool.mypy] files in pyproject.toml)
#   lint-imports          the import contracts ([tool.importlinter] in pyproject.toml): a broken
#                         one is named with the importing and the imported module
#
# Every part runs even when an earlier one fails, so one run shows all findings; the exit
# status is non-zero if any part failed. PYTHON (default .venv/bin/python) names the
# interpreter that has the tools installed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-.venv/bin/python}"

failed=()
run() {
    local name="$1"
    shift
    echo "lint: $name"
    "$@" || failed+=("$name")
}

run "ruff check" "$PYTHON" -m ruff check .
run "ruff format --check" "$PYTHON" -m ruff format --check .
run "mypy --strict" "$PYTHON" -m mypy
run "lint-imports" "$(dirname "$PYTHON")/lint-imports" --no-cache

if (( ${#failed[@]} )); then
    printf 'lint: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "lint: OK (ruff check, ruff format --check, mypy --strict, import contracts)"
