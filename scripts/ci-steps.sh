#!/usr/bin/env bash
# The CI steps, in one place: .ci/run runs them all, .github/workflows/ci.yml runs them one
# per workflow step (scripts/check-workflows.sh fails when its list differs from --list).
#
#   scripts/ci-steps.sh all        every step below, in order; stops at the first failure
#   scripts/ci-steps.sh STEP...    the named steps, in the order given
#   scripts/ci-steps.sh --list     the step names, one a line
#
# Steps:
#   toolchain   terraform, python3 and node are present; print their versions
#   install     make install (pipenv sync --dev from Pipfile.lock, npm ci)
#   test        make test: unit (incl. terraform validate of every stack and plan), handler, end-to-end,
#               migration (with the original HCL from ../shared/seed/ when it is there)
#   handler-py312  make test-handler-py312: tests/function under python3.12 (Lambda's runtime) in
#               .venv-py312/, installed from Pipfile.lock with hashes; fails if python3.12 is absent
#   migration   make migration-prove: the original HCL (../shared/seed/, never in the repository)
#               moved to the prod stack on the emulator; skipped, saying so, where it is absent
#   lint        make lint: ruff check, ruff format --check, mypy --strict (after the tests, so
#               a lint finding does not hide their result)
#   scan        make scan: checkov over the synthesized prod stack
#   workflows   make lint-workflows: zizmor and action-validator over .github/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STEPS=(toolchain install test handler-py312 migration lint scan workflows)
#: The original HCL, beside the project on this workplace's machines (absent on GitHub).
ORIGINAL=../shared/seed/

step_toolchain() {
    command -v terraform >/dev/null || { echo "CI needs terraform on PATH (>= 1.10)" >&2; exit 1; }
    command -v node >/dev/null || { echo "CI needs node on PATH (>= 20)" >&2; exit 1; }
    terraform version | head -1
    python3 --version
    node --version
}
step_install() { make install; }
step_test() { make test ORIGINAL="$ORIGINAL"; }
step_handler-py312() { make test-handler-py312; }
step_migration() {
    if [[ -f "$ORIGINAL/main.tf" ]]; then
        make migration-prove ORIGINAL="$ORIGINAL"
    else
        echo "migration: no original HCL at $ORIGINAL (it is not part of the repository): proof skipped"
    fi
}
step_lint() { make lint; }
step_scan() { make scan; }
step_workflows() { make lint-workflows; }

run_step() {
    printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"
    "step_$1"
}

case "${1:-}" in
    "" | -h | --help) sed -n '2,21p' "$0"; exit 2 ;;
    --list) printf '%s\n' "${STEPS[@]}"; exit 0 ;;
    all) set -- "${STEPS[@]}" ;;
esac
for step in "$@"; do
    if [[ ! " ${STEPS[*]} " =~ " ${step} " ]]; then
        echo "ci-steps: unknown step '$step' (known: ${STEPS[*]})" >&2
        exit 2
    fi
done
for step in "$@"; do
    run_step "$step"
done
