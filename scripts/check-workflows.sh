#!/usr/bin/env bash
# Lint the GitHub Actions setup: zizmor (security audit of .github/: workflows and
# dependabot.yml) and action-validator (schema of each workflow); and check that ci.yml runs
# exactly the steps of scripts/ci-steps.sh, in its order (what .ci/run runs).
# Both must report nothing. zizmor comes from the scanner venv (scripts/scan.sh --setup,
# pinned with hashes in .ci/scan-requirements.txt) and runs --offline: it needs no GitHub
# API token, so the audits that query GitHub (e.g. impostor-commit, ref-confusion) are not run.
# Accepted zizmor findings, if any, are ignored in .github/zizmor.yml with a reason each.
# action-validator comes from node_modules (package.json devDependency) when installed,
# otherwise from npx at the same pinned version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ACTION_VALIDATOR_VERSION="0.6.0"
SCAN_VENV="${SCAN_VENV:-$ROOT/.venv-scan}"

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if (( ${#workflows[@]} == 0 )); then
    echo "check-workflows: no workflow files under .github/workflows" >&2
    exit 1
fi

# ci.yml must run `scripts/ci-steps.sh STEP` for every step, in the order of --list.
want="$(scripts/ci-steps.sh --list)"
have="$(sed -n 's/^ *run: scripts\/ci-steps\.sh \([a-z0-9-]*\) *$/\1/p' .github/workflows/ci.yml)"
if [[ "$want" != "$have" ]]; then
    echo "check-workflows: ci.yml runs ci-steps.sh steps [$(echo $have)], scripts/ci-steps.sh has [$(echo $want)]" >&2
    exit 1
fi
echo "check-workflows: ci.yml runs the ci-steps.sh steps of .ci/run: $(echo $want)"

scripts/scan.sh --setup
echo "check-workflows: zizmor $("$SCAN_VENV/bin/zizmor" --version | awk '{print $2}') --offline on .github/ (workflows, dependabot.yml)"
config_args=()
[[ -f .github/zizmor.yml ]] && config_args=(--config .github/zizmor.yml)
# Exit status is non-zero on any finding that is not ignored in .github/zizmor.yml.
"$SCAN_VENV/bin/zizmor" --offline --persona regular "${config_args[@]}" .github/

if [[ -x node_modules/.bin/action-validator ]]; then
    validator=(node_modules/.bin/action-validator)
else
    validator=(npx --yes "@action-validator/cli@${ACTION_VALIDATOR_VERSION}")
fi
echo "check-workflows: action-validator ${ACTION_VALIDATOR_VERSION} on ${workflows[*]}"
status=0
for workflow in "${workflows[@]}"; do
    "${validator[@]}" "$workflow" || status=1
done
if (( status != 0 )); then
    echo "check-workflows: action-validator found errors" >&2
    exit 1
fi
echo "check-workflows: OK (zizmor: no findings; action-validator: ${#workflows[@]} valid)"
