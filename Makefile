# tap-stack: every target installs what it needs first, so each works on a fresh clone.
#   make local   deploy the stack to a local AWS emulator and serve the task API
#   make test    run the whole test suite (the command CI runs)
#   make synth   synthesize every environment into cdktf.out/
#   make hcl [STACK=prod]   the stack as plain Terraform HCL in cdktf.out/hcl/STACK/ (README: "Leaving CDKTF")
#   make lint    ruff check, ruff format --check, mypy --strict (scripts/lint.sh)
#   make test-handler-py312   the handler's tests on Python 3.12, Lambda's runtime (.venv-py312/)
#   make migration-prove ORIGINAL=DIR   move a deployment of the original HCL (in DIR) on the emulator

SHELL := /bin/bash
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_VERBOSITY := -1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
# The AWS provider comes from a filesystem mirror where the folder .terraformrc.mirror names
# exists (no registry access).
TF_MIRROR_DIR := $(shell sed -n 's/^ *path *= *"\(.*\)".*/\1/p' .terraformrc.mirror)
ifneq ($(and $(TF_MIRROR_DIR),$(wildcard $(TF_MIRROR_DIR))),)
export TF_CLI_CONFIG_FILE := $(CURDIR)/.terraformrc.mirror
endif
# Without a state bucket, synthesize with local state (see README: "State backend").
TAP_BACKEND ?= $(if $(TAP_STATE_BUCKET),s3,local)
export TAP_BACKEND

PIPENV_VERSION := 2026.10.3
PYTHON := .venv/bin/python
STACK ?= prod
# The original HCL's folder (the user's code, not in this repository) and a state to move.
ORIGINAL ?=
FROM_STATE ?=

.PHONY: install synth hcl test test-fast test-handler-py312 lint validate migration-check migration-adopt migration-prove scan lint-workflows local local-down emulator bench clean

.venv/.installed: Pipfile.lock
	@command -v pipenv >/dev/null || python3 -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	pipenv sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: .venv/.installed node_modules/.installed

# AWS's published REST proxy sample event, read by the handler tests from the AWS SAM CLI wheel.
build/published-events/.installed: tests/function/events/published.txt .venv/.installed
	$(PYTHON) -m pip download --quiet --no-deps --require-hashes -r $< -d $(@D)
	@touch $@

synth: .venv/.installed
	@echo "synthesizing with the $(TAP_BACKEND) backend into cdktf.out/stacks/ (skipped when no input changed)"
	$(PYTHON) main.py --if-changed

# The stack as plain Terraform HCL (main.tf and its assets/) in cdktf.out/hcl/$(STACK)/, for leaving CDKTF.
hcl: .venv/.installed
	$(PYTHON) -m hclexport --env "$(STACK)"

test: install build/published-events/.installed
	@command -v terraform >/dev/null || { echo "terraform is not on PATH: install Terraform >= 1.10" >&2; exit 1; }
	MIGRATION_ORIGINAL_HCL=$(ORIGINAL) $(PYTHON) -m pytest

test-fast: .venv/.installed build/published-events/.installed
	$(PYTHON) -m pytest -m "not e2e and not terraform and not slow and not migration"

# tests/function under python3.12 in .venv-py312/, installed from Pipfile.lock with hashes (scripts/test-handler-py312.sh).
test-handler-py312: build/published-events/.installed
	scripts/test-handler-py312.sh

lint: .venv/.installed
	scripts/lint.sh

validate: synth
	cd cdktf.out/stacks/$(STACK) && terraform init -backend=false -input=false >/dev/null && terraform validate

# Moving from the original HCL adds the table's indexes: plans and proofs run with index changes allowed.
migration-check migration-adopt migration-prove: export TAP_TABLE_INDEX_CHANGES = true
migration-check: .venv/.installed
	$(PYTHON) -m migration check --env $(STACK) $(if $(FROM_STATE),--from-state $(FROM_STATE))

migration-adopt: .venv/.installed
	@test -n "$(FROM_STATE)" || { echo "set FROM_STATE=FILE or s3://BUCKET/KEY: the state to move" >&2; exit 2; }
	$(PYTHON) -m migration adopt --env $(STACK) --from-state $(FROM_STATE)

migration-prove: .venv/.installed
	@test -n "$(ORIGINAL)" || { echo "set ORIGINAL=DIR: the folder of the original HCL (e.g. ../shared/seed/)" >&2; exit 2; }
	$(PYTHON) -m migration prove --original $(ORIGINAL)

scan: synth
	scripts/scan.sh

lint-workflows: node_modules/.installed
	scripts/check-workflows.sh

# Shift the live alias of STACK's function to its latest published version (VERSION=N for another)
# through CodeDeploy; WAIT=1 follows the deployment to its end (docs/rollout.md).
.PHONY: rollout
rollout: .venv/.installed
	$(PYTHON) -m rollout --env $(STACK) $(if $(VERSION),--version $(VERSION)) $(if $(WAIT),--wait)

# Restore STACK's task table to TIME (ISO 8601 with its offset) in place: without YES=1 it only
# checks and prints the plan; KEEP=1 keeps the temporary restored table (docs/runbooks.md).
.PHONY: restore-table
restore-table: .venv/.installed
	$(PYTHON) -m restore --env $(STACK) --to-time "$(TIME)" $(if $(YES),--yes) $(if $(KEEP),--keep)

# Give the pending tasks of STACK's table their queue shard, once, after the deploy that adds
# queue-shard-index (docs/runbooks.md, "Adding the queue shards"); safe to repeat.
.PHONY: backfill-shards
backfill-shards: .venv/.installed
	$(PYTHON) -m backfill --env $(STACK)

# Rotate STACK's API keys now, or revoke the key whose audit fingerprint is KEY_FINGERPRINT
# (docs/runbooks.md, "Rotating and revoking keys").
.PHONY: rotate-keys revoke-key
rotate-keys: .venv/.installed
	$(PYTHON) -m keyops rotate --env $(STACK)

revoke-key: .venv/.installed
	@test -n "$(KEY_FINGERPRINT)" || { echo "set KEY_FINGERPRINT=HEX: the api_key_fingerprint of the key to revoke" >&2; exit 2; }
	$(PYTHON) -m keyops revoke --env $(STACK) --fingerprint $(KEY_FINGERPRINT)

local: install
	$(PYTHON) -m local.up

local-down: .venv/.installed
	$(PYTHON) -m local.down

emulator: .venv/.installed
	$(PYTHON) -m workspace.emulator --background

bench: .venv/.installed
	$(PYTHON) -m bench.synth_bench
	$(PYTHON) -m bench.handler_bench
	$(PYTHON) -m bench.local_load --deploy
	$(PYTHON) -m bench.tap_bench --deploy
	$(PYTHON) -m bench.mixed_load

clean:
	rm -rf cdktf.out build .pytest_cache
