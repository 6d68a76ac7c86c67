# The two commands of the README: `make run` and `make test`. Both create .venv
# and install the project (with its test extras) when pyproject.toml changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: run test unit functional lint genconfig bench clean api-gunicorn fuzz sweep \
	bench-scale-out

$(STAMP): pyproject.toml scripts/system-deps.sh
	PYTHON=$(PYTHON) scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -e '.[test]' > $(VENV)/pip.log 2>&1 \
		|| { tail -n 40 $(VENV)/pip.log; exit 1; }
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kingbird-demo --state-dir .demo

test: $(STAMP) lint
	$(BIN)/pytest -q -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

functional: $(STAMP)
	$(BIN)/pytest -q tests/functional

# lint-imports checks the import contracts of pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/lint-imports --no-logo --cache-dir .cache/import-linter

genconfig: $(STAMP)
	$(BIN)/oslo-config-generator --config-file etc/kingbird/kingbird-config-generator.conf

# Scale-out mode: the API under gunicorn, configured by $(KINGBIRD_CONFIG_FILE)
# (several files: comma-separated). Workers: KINGBIRD_API_WORKERS (default 4).
KINGBIRD_CONFIG_FILE ?= /etc/kingbird/kingbird.conf
api-gunicorn: $(STAMP)
	KINGBIRD_CONFIG_FILE=$(KINGBIRD_CONFIG_FILE) $(BIN)/gunicorn \
		-c python:kingbird.cmd.gunicorn_conf kingbird.cmd.wsgi:application

# schemathesis against /openapi.json with admin and member tokens, deeper than
# in `make test`: more examples, path parameters generated too.
FUZZ_EXAMPLES ?= 60
fuzz: $(STAMP)
	KINGBIRD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) KINGBIRD_FUZZ_FREE=1 \
		$(BIN)/pytest -q -p no:cacheprovider tests/functional/test_api_fuzz.py

# Hostile input to every route of /openapi.json, as four callers, on SQLite and on the
# machine's PostgreSQL (SWEEP_POSTGRESQL); prints the answers by status, fails on a 5xx.
SWEEP_CASES ?= 30
SWEEP_SEED ?= 1
SWEEP_POSTGRESQL ?= postgresql+psycopg2://postgres@127.0.0.1:5432/postgres
sweep: $(STAMP)
	$(BIN)/python benchmarks/hostile_sweep.py --cases $(SWEEP_CASES) --seed $(SWEEP_SEED) \
		--postgresql $(SWEEP_POSTGRESQL)

bench-scale-out: $(STAMP)
	$(BIN)/python benchmarks/scale_out.py

clean:
	rm -rf $(VENV) .demo .cache .pytest_cache
