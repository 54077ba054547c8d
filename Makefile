# Margins: `make run` to try it, `make test` to check it.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev bench bench-long bench-faults lint lock clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Margins needs $(PYTHON) on PATH (or: make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The lock files hold the exact versions CI tested; `make lock` makes them again from pyproject.toml.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

$(DEVSTAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $(STAMP) $@

install: $(STAMP)
install-dev: $(DEVSTAMP)

run: $(STAMP)
	$(BIN)/margins run

test: $(DEVSTAMP)
	$(BIN)/python tests/support/browser_setup.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(DEVSTAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } \
		|| echo "wrk is not installed: bench/isso_compare.py falls back to a Python load generator"
	$(BIN)/python bench/broker_latency.py
	$(BIN)/python bench/moderation_latency.py
	$(BIN)/python bench/classifier.py
	$(BIN)/python bench/fanout.py 10000
	$(BIN)/python bench/isso_compare.py

# the long ones: 60 s of mixed load, a million rows in PostgreSQL, 100,000-subscriber fan-out
bench-long: $(DEVSTAMP)
	$(BIN)/python bench/mixed_load.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/fanout.py 100000

# faults: kill -9 during a send, a flaky SMTP server; Redis stopped, PostgreSQL restarted
bench-faults: $(DEVSTAMP)
	$(BIN)/python bench/faults_delivery.py
	$(BIN)/python bench/faults_infra.py

# Style, formatting, the layers (import-linter contracts in pyproject.toml) and types.
lint: $(DEVSTAMP)
	$(BIN)/ruff check service worker tests bench
	$(BIN)/ruff format --check service worker tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

LOCK := $(BIN)/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links --no-emit-trusted-host
lock: $(DEVSTAMP)
	$(LOCK) --extra dev -o requirements-dev.lock pyproject.toml
	$(LOCK) -c requirements-dev.lock -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) build dist *.egg-info
