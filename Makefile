# The two commands: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= $(or $(CODESIGN_PORT),8000)
# Tests run in one process per core (pytest-xdist); each test has its own database either way.
TEST_PROCESSES ?= $(shell nproc 2>/dev/null || echo 2)
DEPS_STAMP := $(VENV)/.deps-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run test test-sqlite test-postgres lint system-deps bench bytecode clean

$(DEPS_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.deps-* && touch $@

# The app's own modules compiled once: where PYTHONDONTWRITEBYTECODE is set (as on this machine),
# Python would otherwise compile them from source in every process it starts (0.5-1 s for a server
# or a test server, 0.1 s for `codesign tally`). Quick when nothing changed.
bytecode: $(DEPS_STAMP)
	@$(BIN)/python -m compileall -q codesign

## make run: a development server with the demo, on http://127.0.0.1:$(PORT)
run: export CODESIGN_ENV ?= development
run: export CODESIGN_PORT := $(PORT)
run: $(DEPS_STAMP) bytecode
	$(BIN)/codesign migrate
	$(BIN)/codesign seed-demo --if-empty
	@echo ""
	@echo "  codesign is running at http://127.0.0.1:$(PORT)  (Ctrl+C stops it)"
	@echo ""
	@# The worker (mail, online round windows) runs beside the server and stops with it.
	@$(BIN)/codesign worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/codesign serve --port $(PORT)

## make test: lint, types, then the whole suite on SQLite and again on a throwaway PostgreSQL 15
test: $(DEPS_STAMP) system-deps lint test-sqlite test-postgres

lint: $(DEPS_STAMP)
	$(BIN)/ruff check codesign tests bench
	$(BIN)/mypy codesign

test-sqlite: $(DEPS_STAMP) bytecode
	@echo "== test suite on SQLite"
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --durations=15 || [ $$? -eq 5 ]  # 5 = nothing collected: not a failure

# Run once, on SQLite: tests that touch no database (the pure counting, evidence and contract code, exports
# rendered from a snapshot, settings, text and number parsing, names, the seed text's reading age,
# `codesign tally`, the CLI test that makes its own SQLite file) and the browser tests (what a device does with the pages; what the
# server stores, races included, is tested over HTTP and in the services on both databases), except
# the live-room test, which serves the app with two workers and runs on both databases.
# Every other test runs again on PostgreSQL, but for the walk over every GET page (that a GET never
# writes is about the handlers, not the database; a minute a run).
DESELECT_ON_POSTGRES := tests/http/test_safety.py::test_get_never_changes_state
BROWSER_ONCE := $(filter-out tests/browser/test_live_room.py,$(wildcard tests/browser/test_*.py))
# HTTP tests of what pages say and how they read (wording, titles, escaping, downloads of stored files,
# static files) run once too: they read what the services stored, which is tested on both databases.
PAGES_ONCE := $(addprefix tests/http/,test_appendix_parts.py test_facilitator.py test_fhir_export.py \
	test_framework_wording.py test_list_in_place.py test_page_titles.py test_plain_results.py \
	test_population_wording.py test_present.py test_redirects.py test_round_downloads.py test_round_names.py \
	test_saved_focus.py test_static.py test_text_size.py test_access_log.py)
RUN_ONCE := tests/voting tests/contract tests/export tests/evidence $(BROWSER_ONCE) $(PAGES_ONCE) tests/test_config.py \
	tests/test_validation.py tests/test_naming.py tests/test_tally_cli.py tests/test_cli.py tests/test_readability.py tests/test_routes.py tests/test_threads.py
test-postgres: $(DEPS_STAMP) bytecode
	@echo "== test suite on PostgreSQL 15"
	tests/with_postgres.sh $(BIN)/python -m pytest -n $(TEST_PROCESSES) --durations=15 $(addprefix --ignore=,$(RUN_ONCE)) \
	  $(addprefix --deselect=,$(DESELECT_ON_POSTGRES)) \
	  || [ $$? -eq 5 ]

# Debian packages the tests use: Chromium for the browser tests, PostgreSQL for the second run.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "Liberation Sans" || missing="$$missing fonts-liberation"; \
	test -x /usr/lib/postgresql/15/bin/initdb || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "== installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "make test needs these Debian packages:$$missing"; \
	    echo "Install them as root:  sudo apt-get install -y$$missing"; \
	    echo "(or run just the SQLite suite without browser tests: make test-sqlite PYTEST_ADDOPTS='-m \"not browser\"')"; \
	    exit 1; \
	  fi; \
	fi

bench: $(DEPS_STAMP) bytecode
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_scale.py
	tests/with_postgres.sh $(BIN)/python bench/bench_scale.py --postgres --skip-files --skip-sqlite
	$(BIN)/python bench/bench_panel.py
	$(BIN)/python bench/bench_import.py
	tests/with_postgres.sh $(BIN)/python bench/bench_import.py --postgres
	$(BIN)/python bench/bench_people.py
	$(BIN)/python bench/bench_export.py
	$(BIN)/python bench/bench_pages.py
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_load.py --postgres --workers 2
	$(BIN)/python bench/bench_crash.py
	$(BIN)/python bench/bench_room.py
	tests/with_postgres.sh $(BIN)/python bench/bench_room.py --postgres --workers 2

clean:
	rm -rf $(VENV) test-output .mypy_cache .ruff_cache
