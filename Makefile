# tongban: the two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The newest Python 3.11+ on PATH, unless PYTHON is given.
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { command -v $$p; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The deployment check tools live apart: checkov pins libraries of its own.
K8S_VENV := .venv-k8s
K8S_STAMP := $(K8S_VENV)/.installed

.PHONY: help install infra migrate run seed-scale test test-unit lint format bench faults lock clean \
	k8s-tools k8s-check k8s-lock

help:
	@echo "make run    start the whole cluster locally (gateway on http://127.0.0.1:8000,"
	@echo "           a demo department system signing in through it on http://127.0.0.1:8600)"
	@echo "make test   run every test (unit, integration, end to end)"
	@echo "make bench  measure the main request paths"
	@echo "make faults  break the broker, PostgreSQL and processes under load; check nothing is lost"
	@echo "             (FAULTS_ARGS=\"--quick\" or \"--scenarios 2,4\"; stops the shared broker and PostgreSQL)"
	@echo "make seed-scale  load the seed's volumes into the cluster's PostgreSQL (DATABASE_URL)"
	@echo "make lint   ruff check and format check"
	@echo "make k8s-check  render and check the Kubernetes manifests and the Dockerfile"

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
		echo "python venv is missing; installing it"; apt-get install -y -qq python3-venv; \
		$(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

$(K8S_STAMP): deploy/k8s/requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	@test -x $(K8S_VENV)/bin/python || $(PYTHON) -m venv $(K8S_VENV)
	$(K8S_VENV)/bin/python -m pip install -q -r deploy/k8s/requirements.lock
	@touch $(K8S_STAMP)

k8s-tools: $(K8S_STAMP)

# Renders every overlay, validates it against the Kubernetes schemas, runs
# checkov and hadolint (deploy/k8s/check.py), then the manifests' policy tests.
k8s-check: install k8s-tools
	$(K8S_VENV)/bin/python deploy/k8s/check.py
	$(VENV)/bin/pytest -q tests/deploy

infra:
	@bash deploy/local/ensure-infra.sh

migrate: install infra
	$(PY) -m operations.migrate

run: install infra
	$(PY) -m operations.local_cluster run

# The seed's volumes (75,000 items, 1.09 million citizens, 270,000 shipments)
# in the PostgreSQL databases DATABASE_URL names, as `make run` uses them;
# SEED_ARGS="--only catalog --scale 0.1" for part of it.
seed-scale: install infra
	@bash deploy/local/ensure-infra.sh --postgres
	$(PY) -m operations.seed_scale $(SEED_ARGS)

test: install k8s-tools
	@bash deploy/local/ensure-infra.sh --postgres --browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(K8S_VENV)/bin/python deploy/k8s/check.py
	@# The end-to-end tests (one cluster, mostly computing) and the rest (mostly
	@# waiting on the broker and the databases) run side by side; the rest's
	@# report follows the end-to-end one.
	@mkdir -p var; $(VENV)/bin/pytest -q --ignore=tests/e2e --ignore=tests/faults \
		> var/test-rest.log 2>&1 & rest=$$!; \
	$(VENV)/bin/pytest -q tests/e2e tests/faults; e2e=$$?; \
	wait $$rest; others=$$?; echo; echo "--- every test but the end-to-end ones:"; cat var/test-rest.log; \
	exit $$(( e2e || others ))

test-unit: install
	$(VENV)/bin/pytest -q services/*/tests/unit gateway/tests/unit operations/tests/unit

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install infra
	@# PostgreSQL for the measurements at the seed's size (skipped without it).
	@bash deploy/local/ensure-infra.sh --postgres
	$(PY) -m tests.bench

# Faults under load (tests/faults): the broker and PostgreSQL of this machine are
# stopped for a while (scenarios 1 and 3), so other runs on it see them go too.
faults: install
	@bash deploy/local/ensure-infra.sh --postgres
	$(PY) -m tests.faults $(FAULTS_ARGS)

lock: install
	( echo "# Full pinned lock of the runtime and test dependencies (pip install -r requirements.lock)."; \
	  echo "# Regenerate: make lock"; \
	  $(PY) -m pip freeze --exclude-editable | grep -v -i '^tongban' ) > requirements.lock

k8s-lock: k8s-tools
	( echo "# Full pinned lock of the deployment check tools (see requirements.txt beside it)."; \
	  echo "# Regenerate: make k8s-lock"; \
	  $(K8S_VENV)/bin/python -m pip freeze | sort -f ) > deploy/k8s/requirements.lock

clean:
	rm -rf var .pytest_cache
