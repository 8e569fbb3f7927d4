#!/usr/bin/env bash
# The saved plan of .github/workflows/deploy.yml, handed from the plan job to the apply job.
#
#   scripts/plan-artifact.sh seal STACK_DIR OUT_DIR COMMIT
#       copy STACK_DIR (e.g. cdktf.out/stacks/prod, after `terraform plan -out tfplan`), minus
#       its .terraform/ folder, to OUT_DIR/stacks/<stack>/, and write beside it
#         OUT_DIR/plan-manifest.txt  commit=<COMMIT>, stack=<stack>, plan=stacks/<stack>/tfplan,
#                                    plan_sha256=<SHA-256 of tfplan>
#         OUT_DIR/SHA256SUMS         SHA-256 of every file under stacks/ (sha256sum format)
#       and print the plan's SHA-256. The copy holds what `terraform apply tfplan` needs: the
#       plan, the configuration it was made from (cdk.tf.json, the function zip under assets/)
#       and .terraform.lock.hcl (the provider versions and checksums init must install again).
#
#   scripts/plan-artifact.sh verify DIR COMMIT [PLAN_SHA256]
#       DIR is OUT_DIR as downloaded. Exits 1, saying why, unless: the manifest's commit is
#       COMMIT; stacks/<stack>/tfplan hashes to the manifest's plan_sha256 (and to PLAN_SHA256,
#       the plan job's output, when given); every file listed in SHA256SUMS is unchanged; and no
#       file under stacks/ is missing from that list (an extra *.tf.json would change the
#       configuration the plan is applied with). Prints the verified stack folder.
#
# Used by .github/workflows/deploy.yml; tests/unit/test_workflows.py runs both commands.
set -euo pipefail

die() { echo "plan-artifact: $*" >&2; exit 1; }
usage() { sed -n '2,21p' "$0" >&2; exit 2; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# The files under DIR/stacks/, relative to DIR, one a line, in a fixed order.
stack_files() { (cd "$1" && find stacks -type f -print | LC_ALL=C sort); }

seal() {
    local stack_dir="$1" out="$2" commit="$3" stack plan_sha
    [[ "$commit" =~ ^[0-9a-f]{40}$ ]] || die "seal: '$commit' is not a 40-hex commit SHA"
    [[ -f "$stack_dir/tfplan" ]] || die "seal: $stack_dir/tfplan not found (run terraform plan -out tfplan first)"
    [[ -f "$stack_dir/.terraform.lock.hcl" ]] || die "seal: $stack_dir/.terraform.lock.hcl not found (run terraform init first)"
    stack="$(basename "$stack_dir")"
    rm -rf "$out"
    mkdir -p "$out/stacks/$stack"
    tar -C "$stack_dir" --exclude=./.terraform -cf - . | tar -C "$out/stacks/$stack" -xf -
    (cd "$out" && stack_files . | xargs -d '\n' sha256sum) >"$out/SHA256SUMS"
    plan_sha="$(sha256 "$out/stacks/$stack/tfplan")"
    printf 'commit=%s\nstack=%s\nplan=stacks/%s/tfplan\nplan_sha256=%s\n' \
        "$commit" "$stack" "$stack" "$plan_sha" >"$out/plan-manifest.txt"
    echo "$plan_sha"
}

field() { sed -n "s/^$1=//p" "$2" | head -1; }

verify() {
    local dir="$1" commit="$2" expected_plan_sha="${3:-}" manifest have_commit stack plan want_sha have_sha
    manifest="$dir/plan-manifest.txt"
    [[ -f "$manifest" ]] || die "verify: $manifest not found: not a sealed plan"
    [[ -f "$dir/SHA256SUMS" ]] || die "verify: $dir/SHA256SUMS not found: not a sealed plan"
    have_commit="$(field commit "$manifest")"
    [[ "$have_commit" == "$commit" ]] \
        || die "verify: the plan was made for commit '${have_commit}', this run deploys '${commit}'"
    stack="$(field stack "$manifest")"
    [[ "$stack" =~ ^[a-z0-9_-]+$ ]] || die "verify: bad stack name '$stack' in the manifest"
    plan="$dir/stacks/$stack/tfplan"
    [[ -f "$plan" ]] || die "verify: $plan not found"
    want_sha="$(field plan_sha256 "$manifest")"
    have_sha="$(sha256 "$plan")"
    [[ "$have_sha" == "$want_sha" ]] \
        || die "verify: tfplan has SHA-256 $have_sha, the manifest says '${want_sha}'"
    if [[ -n "$expected_plan_sha" && "$have_sha" != "$expected_plan_sha" ]]; then
        die "verify: tfplan has SHA-256 $have_sha, the plan job reported '${expected_plan_sha}'"
    fi
    (cd "$dir" && sha256sum --check --strict --quiet SHA256SUMS) \
        || die "verify: files differ from SHA256SUMS (above)"
    local listed present
    listed="$(sed 's/^[0-9a-f]\{64\}  //' "$dir/SHA256SUMS" | LC_ALL=C sort)"
    present="$(stack_files "$dir")"
    if [[ "$listed" != "$present" ]]; then
        die "verify: files under stacks/ not in SHA256SUMS: $(comm -13 <(echo "$listed") <(echo "$present") | tr '\n' ' ')"
    fi
    echo "plan-artifact: verified $dir/stacks/$stack: commit $commit, tfplan SHA-256 $have_sha, $(wc -l <"$dir/SHA256SUMS") files unchanged" >&2
    echo "$dir/stacks/$stack"
}

case "${1:-}" in
    seal) (( $# == 4 )) || usage; seal "$2" "$3" "$4" ;;
    verify) (( $# == 3 || $# == 4 )) || usage; verify "$2" "$3" "${4:-}" ;;
    *) usage ;;
esac
