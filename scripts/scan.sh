#!/usr/bin/env bash
# Static security scan of the synthesized Terraform with checkov.
#
#   scripts/scan.sh              scan cdktf.out/stacks/prod/cdk.tf.json with .checkov.yaml;
#                                exits non-zero on any failed check
#   scripts/scan.sh --original SEED_DIR
#                                scan the original HCL (SEED_DIR/main.tf, e.g. ../shared/seed/)
#                                WITHOUT our skips, to record its baseline; always exits 0 (it is
#                                known to fail)
#   scripts/scan.sh --setup      only create/refresh the scanner venv
#
# The scanners live in .venv-scan/ (separate from the pipenv venv: checkov pins many of its
# own dependencies), installed with hashes from .ci/scan-requirements.txt. The venv is
# rebuilt whenever that file changes. Synthesize first: TAP_BACKEND=local python main.py
#
# Environment: SCAN_VENV (default .venv-scan), SCAN_PYTHON (default python3.11), CHECKOV_OUTPUT
# (extra checkov output formats, e.g. "json"; they are printed after the CLI report).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCAN_VENV="${SCAN_VENV:-$ROOT/.venv-scan}"
REQUIREMENTS="$ROOT/.ci/scan-requirements.txt"
STAMP="$SCAN_VENV/.requirements.sha256"
# The scanner venv's interpreter: SCAN_PYTHON, else python3.11 (what the lock was compiled for).
PYTHON_BIN="${SCAN_PYTHON:-python3.11}"

ensure_venv() {
    local want have=""
    want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
    [[ -f "$STAMP" ]] && have="$(cat "$STAMP")"
    if [[ -x "$SCAN_VENV/bin/checkov" && "$want" == "$have" ]]; then
        return 0
    fi
    echo "scan: installing scanners into ${SCAN_VENV#"$ROOT"/} from .ci/scan-requirements.txt" >&2
    rm -rf "$SCAN_VENV"
    "$PYTHON_BIN" -m venv "$SCAN_VENV"
    "$SCAN_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --require-hashes --no-deps -r "$REQUIREMENTS" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
    "$SCAN_VENV/bin/python" -m pip check >/dev/null
    echo "$want" > "$STAMP"
}

SCAN_TMP=""
cleanup() { [[ -n "$SCAN_TMP" ]] && rm -rf "$SCAN_TMP"; return 0; }
trap cleanup EXIT

checkov() {
    # checkov also reads .checkov.yaml from the scanned directory, the working directory and
    # $HOME. Only the config named on the command line may apply: run it from an empty
    # temporary working directory with an empty temporary HOME.
    # BC_SKIP_MAPPING: no download of policy metadata (the scan is offline).
    [[ -n "$SCAN_TMP" ]] || SCAN_TMP="$(mktemp -d)"
    mkdir -p "$SCAN_TMP/home" "$SCAN_TMP/cwd"
    (cd "$SCAN_TMP/cwd" && HOME="$SCAN_TMP/home" BC_SKIP_MAPPING=TRUE "$SCAN_VENV/bin/checkov" "$@")
}

output_args() {
    local fmt
    OUT_ARGS=(--output cli)
    for fmt in ${CHECKOV_OUTPUT:-}; do
        OUT_ARGS+=(--output "$fmt")
    done
}

scan_synth() {
    local target="cdktf.out/stacks/prod/cdk.tf.json"
    if [[ ! -f "$target" ]]; then
        echo "scan: $target not found; synthesize first (TAP_BACKEND=local python main.py)" >&2
        exit 2
    fi
    output_args
    echo "scan: checkov $("$SCAN_VENV/bin/checkov" --version) on $target with .checkov.yaml"
    # .checkov.yaml holds the framework, the skips (each with its reason) and soft-fail: false.
    checkov --config-file "$ROOT/.checkov.yaml" --file "$ROOT/$target" "${OUT_ARGS[@]}"
}

original_hcl() {
    if [[ -z "$1" || ! -f "${1%/}/main.tf" ]]; then
        echo "scan: no main.tf in '${1}': pass the folder of the original HCL, e.g. scripts/scan.sh --original ../shared/seed/" >&2
        exit 2
    fi
    echo "${1%/}/main.tf"
}

scan_original() {
    local seed="$1"
    SCAN_TMP="$(mktemp -d)"
    mkdir -p "$SCAN_TMP/original"
    cp "$seed" "$SCAN_TMP/original/main.tf"
    output_args
    echo "scan: checkov $("$SCAN_VENV/bin/checkov" --version) on the original $seed (no skips)"
    # No config file at all: every check runs. The original is expected to fail: report only.
    checkov --directory "$SCAN_TMP/original" --framework terraform --compact --soft-fail "${OUT_ARGS[@]}"
}

case "${1:-}" in
    "") ensure_venv; scan_synth ;;
    --original) seed="$(original_hcl "${2:-}")"; ensure_venv; scan_original "$seed" ;;
    --setup) ensure_venv ;;
    -h|--help) sed -n '2,17p' "$0" ;;
    *) echo "usage: scripts/scan.sh [--original SEED_DIR|--setup|--help]" >&2; exit 2 ;;
esac
