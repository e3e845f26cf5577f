# SimDebrief: `make run` serves the app with its scheduler, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.DEFAULT_GOAL := help
.PHONY: help run test lint format bench install install-dev install-bench db-upgrade db-revision demo scenarios translations

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Compiled catalogues (.mo) are build output, not committed: every install compiles the ones
# whose .po is newer, so a fresh clone serves and tests in every language it ships.
CATALOGUES := simdebrief/translations
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(CATALOGUES)/*/LC_MESSAGES/messages.po))
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k N_plural:1,2

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

$(CATALOGUES)/%/LC_MESSAGES/messages.mo: $(CATALOGUES)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

# The app's own modules are compiled to bytecode at install, as pip does for every other
# package: where Python may not write it (PYTHONDONTWRITEBYTECODE, a read-only checkout), each
# command would otherwise compile 130 modules again before doing anything (a third of a
# second of `followups dispatch --once`). A stale file is never used: Python checks each one.
install: $(VENV)/.installed $(MO_FILES) ## Install the app into .venv and compile its catalogues
	$(BIN)/python -m compileall -q simdebrief app.py

install-dev: $(VENV)/.installed-dev $(MO_FILES) ## Install the app and the test tools into .venv
	$(BIN)/python -m compileall -q simdebrief app.py

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(VENV)/.installed $(VENV)/.installed-dev $@

install-bench: $(VENV)/.installed-bench ## Install the app, the test tools and the benchmark peers

db-upgrade: install ## Migrate the database to the newest schema
	$(FLASK) db upgrade

scenarios: db-upgrade ## Load the scenario library into the database
	$(FLASK) scenarios sync

demo: scenarios ## Load the demo centre (safe to repeat)
	$(FLASK) demo load

run: demo ## Install, migrate, load scenarios and the demo centre, and serve with the scheduler
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	$(FLASK) serve --host $(HOST) --port $(PORT)

test: install-dev ## Install the test tools and run the whole suite (one worker per core)
	$(BIN)/python -m pytest -n auto --durations=15

lint: install-dev ## Check the code with ruff
	$(BIN)/ruff check .

format: install-dev ## Format the code with ruff
	$(BIN)/ruff format simdebrief tests bench

bench: install-bench ## Run the benchmarks (they print ratios against in-process baselines)
	@for script in bench/bench_*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(BIN)/python "$$script" || exit 1; done

db-revision: install-dev ## Autogenerate a migration: make db-revision MESSAGE="what changed"
	$(FLASK) db revision --autogenerate -m "$(MESSAGE)"

translations: install-dev ## Extract messages, update every catalogue and compile them
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --ignore-dirs ".*" --project SimDebrief \
		-o $(CATALOGUES)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) --ignore-obsolete --no-fuzzy-matching --width 100
	$(BIN)/pybabel compile --statistics -d $(CATALOGUES)
