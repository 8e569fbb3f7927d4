#!/usr/bin/env bash
# make test-handler-py312: the handler's tests (tests/function) on Python 3.12, the version of
# the Lambda runtime the stack deploys (python3.12), beside the 3.11 of the dev environment.
#
#   scripts/test-handler-py312.sh [PYTEST ARGS...]
#
# .venv-py312/ (git-ignored) is made with python3.12 and holds exactly the versions
# Pipfile.lock pins: `pipenv requirements --dev --hash` exports the lock at build time into
# build/py312-requirements.txt (never committed, so there is no second lock to drift), and
# pip installs it with --require-hashes --no-deps. The venv is rebuilt when Pipfile.lock or
# the interpreter changes (the stamp .venv-py312/.installed holds both).
#
# python3.12 is PYTHON312 if set, else python3.12 on PATH if it runs, else `pyenv prefix 3.12`.
# Without it the script fails with one line saying how to get it: CI never skips this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PIPENV_VERBOSITY=-1 PIPENV_NOSPIN=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

VENV=.venv-py312
REQUIREMENTS=build/py312-requirements.txt

find_python312() {
    local candidate prefix
    for candidate in "${PYTHON312:-}" python3.12; do
        [[ -n "$candidate" ]] || continue
        # A pyenv shim exists even where 3.12 is installed but not selected: run it to be sure.
        if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    if command -v pyenv >/dev/null && prefix="$(pyenv prefix 3.12 2>/dev/null)" && [[ -x "$prefix/bin/python3.12" ]]; then
        echo "$prefix/bin/python3.12"
        return
    fi
    return 1
}

if ! PY312="$(find_python312)"; then
    echo "handler-py312: python3.12 (with venv) not found: install it (pyenv install 3.12, or apt-get install python3.12 python3.12-venv) or set PYTHON312=/path/to/python3.12" >&2
    exit 1
fi
command -v pipenv >/dev/null || { echo "handler-py312: pipenv is not on PATH: run make install first" >&2; exit 1; }

stamp="$(sha256sum Pipfile.lock | cut -d' ' -f1) $("$PY312" -c 'import sys; print(sys.version.split()[0])')"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.installed" 2>/dev/null)" != "$stamp" ]]; then
    echo "handler-py312: building $VENV with $PY312 from Pipfile.lock (hashes required)"
    mkdir -p "$(dirname "$REQUIREMENTS")"
    pipenv requirements --dev --hash > "$REQUIREMENTS"
    rm -rf "$VENV"
    "$PY312" -m venv "$VENV"
    # --no-compile: the tests import a small part of its ~9,800 modules; pip would compile them all (~40 s of CPU)
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile --require-hashes --no-deps -r "$REQUIREMENTS"
    echo "$stamp" > "$VENV/.installed"
    echo "handler-py312: $VENV built in ${SECONDS} s"
fi
# The slow tests here, the 1,000-claimer storm (the claim design's bounds, ~90 s of CPU) and the
# 1,000-client mixed load (tests/function/test_mixed_load.py, ~110-130 s), run once per CI run, under
# 3.11 in `make test`: that is enough.
echo "handler-py312: $("$VENV/bin/python" --version) from $VENV; pytest tests/function -m 'not slow' $*"
exec "$VENV/bin/python" -m pytest tests/function -m "not slow" "$@"
