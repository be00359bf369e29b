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
	k8s-tools k8s-check k8s-lock portal portal-audit portal-for-run portal-for-test

help:
	@echo "make run    start the whole cluster locally (gateway on http://127.0.0.1:8000,"
	@echo "           a demo department system signing in through it on http://127.0.0.1:8600)"
	@echo "           and the portal on http://127.0.0.1:8000/ (built first when npm is on PATH)"
	@echo "make test   run every test (unit, integration, end to end, the portal's)"
	@echo "make portal  build the web portal (portal/dist, served by the gateway at /)"
	@echo "make portal-audit  Lighthouse scores of the portal on a running cluster (GATEWAY_URL)"
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

run: install infra portal-for-run
	$(PY) -m operations.local_cluster run

# The reference portal (portal/: Vue, built by Vite into portal/dist, which the
# gateway serves at "/"; Node.js 20.19 or newer and npm). npm ci when
# node_modules is missing or package-lock.json changed (npm writes
# node_modules/.package-lock.json on every install); a build when a source is
# newer than the last build.
PORTAL_DEPS := portal/node_modules/.package-lock.json
PORTAL_BUILD := portal/dist/index.html
PORTAL_SOURCES := $(shell find portal/src portal/public -type f ! -name '*.test.ts' 2>/dev/null) \
	portal/index.html portal/vite.config.ts portal/tsconfig.json portal/package.json
NEED_NPM = command -v npm >/dev/null 2>&1 || { echo "$(1) needs Node.js 20.19 or newer and npm on PATH"; exit 1; }

$(PORTAL_DEPS): portal/package-lock.json portal/package.json
	cd portal && npm ci --no-audit --no-fund
	@touch $@

$(PORTAL_BUILD): $(PORTAL_DEPS) $(PORTAL_SOURCES)
	cd portal && npm run build
	@touch $@

portal:
	@$(call NEED_NPM,make portal)
	@$(MAKE) --no-print-directory $(PORTAL_DEPS)
	cd portal && npm run build

# make run: the portal is built when it can be; without npm the back end runs
# anyway, and "/" says that the portal is not built.
portal-for-run:
	@if ! command -v npm >/dev/null 2>&1; then \
		if [ -f $(PORTAL_BUILD) ]; then \
			echo "portal: not rebuilt (npm is not on PATH); the gateway serves the build in portal/dist as it is"; \
		else \
			echo "portal: skipped, npm is not on PATH (Node.js 20.19 or newer and npm build it: make portal);"; \
			echo "        the back end runs, and its / says that the portal is not built"; \
		fi; \
	elif $(MAKE) -q $(PORTAL_BUILD) 2>/dev/null; then \
		echo "portal: portal/dist is up to date"; \
	elif ! $(MAKE) --no-print-directory $(PORTAL_BUILD); then \
		echo "portal: skipped, its build failed (above); the back end runs without it"; \
	fi

# Lighthouse (performance and accessibility) on the home page, an item's guide
# and a signed-in case page of a running cluster (make run; GATEWAY_URL), as a
# phone (Lighthouse's default throttling) and as a desktop.
portal-audit: portal
	cd portal && CHROME_PATH=/usr/bin/chromium node scripts/lighthouse.mjs $${GATEWAY_URL:-http://127.0.0.1:8000}
	cd portal && CHROME_PATH=/usr/bin/chromium node scripts/lighthouse.mjs $${GATEWAY_URL:-http://127.0.0.1:8000} --desktop

# make test: the browser tests use the build; the unit tests run beside the Python suites.
portal-for-test:
	@$(call NEED_NPM,make test (the portal's unit tests and its build))
	@$(MAKE) --no-print-directory $(PORTAL_BUILD)

# The seed's volumes (75,000 items, 1.09 million citizens, 270,000 shipments)
# in the PostgreSQL databases DATABASE_URL names, as `make run` uses them;
# SEED_ARGS="--only catalog --scale 0.1" for part of it.
seed-scale: install infra
	@bash deploy/local/ensure-infra.sh --postgres
	$(PY) -m operations.seed_scale $(SEED_ARGS)

test: install k8s-tools portal-for-test
	@bash deploy/local/ensure-infra.sh --postgres --browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The end-to-end tests (one cluster, mostly computing), the rest (mostly
	@# waiting on the broker and the databases), the portal's unit tests (one
	@# Vitest worker) and the deployment's checks (deploy/k8s/check.py) run side
	@# by side; the others' reports follow the end-to-end one.
	@mkdir -p var; $(K8S_VENV)/bin/python deploy/k8s/check.py > var/test-k8s.log 2>&1 & k8s=$$!; \
	(cd portal && npm test) > var/test-portal.log 2>&1 & portal=$$!; \
	$(VENV)/bin/pytest -q --ignore=tests/e2e --ignore=tests/faults \
		> var/test-rest.log 2>&1 & rest=$$!; \
	$(VENV)/bin/pytest -q tests/e2e tests/faults; e2e=$$?; \
	wait $$rest; others=$$?; wait $$portal; portal_unit=$$?; wait $$k8s; k8s_check=$$?; \
	echo; echo "--- every test but the end-to-end ones:"; cat var/test-rest.log; \
	echo; echo "--- the portal's unit tests (portal: npm test):"; tail -n 40 var/test-portal.log; \
	echo; echo "--- the deployment's checks (deploy/k8s/check.py):"; cat var/test-k8s.log; \
	exit $$(( e2e || others || portal_unit || k8s_check ))

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
