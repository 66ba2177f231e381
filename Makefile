# The two commands of the README: `make run` and `make test`. Everything else here is set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
GISAPP  := $(VENV)/bin/gis-app
PORT    ?= 5000
HOST    ?= 127.0.0.1
# OS packages (Debian 12): the database server with PostGIS, venv, and the test clients
OS_RUN  := python3 python3-venv ca-certificates postgresql-15 postgresql-15-postgis-3
OS_TEST := chromium gdal-bin nginx openssl pgbackrest qgis python3-qgis
PYTEST_ARGS ?=
# pytest-xdist workers: one per core, at most 4 (each has a database of its own)
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n > 4 ? 4 : n )))
PYTEST  := $(PY) -m pytest -n $(WORKERS) --dist loadfile
# what the linters read (ruff, the private-name check)
LINTED  := gis_app layers tests bench migrations

.PHONY: help run test test-fast setup os-run os-test db lint docs bench clean-db

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: setup  ## set up (packages, database, migrations, demo district) and serve on $(HOST):$(PORT)
	@set -e; export DATABASE_URL="$$($(PY) -m gis_app.core.localdb url)"; \
	$(GISAPP) db upgrade; \
	$(GISAPP) load-demo --if-empty; \
	$(GISAPP) demo-accounts; \
	echo "serving 违建治理一张图 on http://$(HOST):$(PORT)"; \
	exec $(GISAPP) serve --host $(HOST) --port $(PORT)

test: setup os-test lint docs  ## lint, build the docs, then the whole test suite on every core
	@set -e; export TEST_DATABASE_URL="$$($(PY) -m gis_app.core.localdb url --test)"; \
	$(PYTEST) $(PYTEST_ARGS)

test-fast: setup  ## the tests without browser, slow and fuzz tests (under a minute)
	@set -e; export TEST_DATABASE_URL="$$($(PY) -m gis_app.core.localdb url --test)"; \
	$(PYTEST) -m "not browser and not slow" $(PYTEST_ARGS)

setup: os-run $(VENV)/.installed static/vendor/.installed  ## OS packages, virtualenv, browser assets

os-run:
	@$(call apt_ensure,$(OS_RUN))

os-test:
	@$(call apt_ensure,$(OS_TEST))

# install the Debian packages in $(1) that are missing (root, or sudo when there is one)
define apt_ensure
	missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "[setup] installing OS packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo=sudo; \
	  else echo "[setup] 缺少系统软件包：$$missing；请以 root 运行 apt-get install$$missing" >&2; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get -o DPkg::Lock::Timeout=900 update -q && $$sudo apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $$missing; \
	fi
endef

$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "[setup] Python packages into $(VENV)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

static/vendor/.installed: gis_app/core/assets.py $(VENV)/.installed
	@$(GISAPP) assets fetch
	@touch $@

db: setup  ## start the database and print its URL
	@$(PY) -m gis_app.core.localdb url

lint: setup  ## ruff (check, format), the import contracts (pyproject.toml), no private names across modules
	@$(VENV)/bin/ruff check $(LINTED)
	@$(VENV)/bin/ruff format --check $(LINTED)
	@$(VENV)/bin/lint-imports --no-cache
	@$(PY) -m tests.support.private_names $(LINTED)

docs: setup  ## build the documentation site strictly (when mkdocs.yml exists), into a scratch directory
	@if test -f mkdocs.yml; then \
	  out="$$(mktemp -d)"; trap 'rm -rf "$$out"' EXIT; \
	  $(VENV)/bin/mkdocs build --strict -d "$$out"; \
	else echo "[docs] no mkdocs.yml: nothing to build"; fi

bench: setup  ## every benchmark (SCALE=small for a quick run)
	@$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[bench]' \
	  || echo "[bench] the bench extra (elkai, LKH-3) did not install: patrol tours use a long fast-tsp run as reference"
	@set -e; export DATABASE_URL="$$($(PY) -m gis_app.core.localdb url)"; \
	$(PY) -m bench.run_all --scale $${SCALE:-full}

clean-db:  ## stop the project-local database (its data stays)
	@test -x $(PY) && $(PY) -m gis_app.core.localdb stop || true
