# Every target sets itself up on a fresh clone: the virtualenv, the package and its tools
# (pip), and what pip cannot install (scripts/system-deps.sh: apt-get when allowed, else
# one line saying what to install).
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
HASH    := $(shell cksum < pyproject.toml | cut -d' ' -f1)
# The package with its extras and the project's dependency groups (pyproject.toml); a
# stamp per pyproject.toml version, so an edit there reinstalls.
RUN_STAMP  := $(VENV)/.run-$(HASH)
TEST_STAMP := $(VENV)/.test-$(HASH)
STAMP      := $(TEST_STAMP)
EXTRAS  := redis,server,client,testing,django,flask
SYSTEM  := PYTHON=$(PYTHON) sh scripts/system-deps.sh
PIP     := $(PY) -m pip install --quiet --disable-pip-version-check
HOST    ?= 127.0.0.1
PORT    ?= 8000

.PHONY: install run test lint typecheck pytest system-deps bench clean screenshots

$(PY):
	$(SYSTEM) venv
	$(PYTHON) -m venv $(VENV)

# pip >= 25.1 reads [dependency-groups] (`--group`): upgraded first, also in an older .venv.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PIP) --upgrade 'pip>=25.1'
	$(PIP) -e '.[server]' --group demo
	rm -f $(VENV)/.run-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PIP) --upgrade 'pip>=25.1'
	$(PIP) -e '.[$(EXTRAS)]' --group test
	rm -f $(VENV)/.test-* $(VENV)/.run-*
	touch $@ $(RUN_STAMP)

install: $(TEST_STAMP)

## run: the demo app (Starlette, memory store, REST API mounted) on http://127.0.0.1:8000
run: $(RUN_STAMP)
	$(PY) -m uvicorn examples.demo:app --host $(HOST) --port $(PORT)

## test: lint, type-check and run every test (Redis and Chromium installed first if missing)
test: system-deps lint typecheck pytest

## system-deps: redis-server, redis-cli and Chromium for the tests
system-deps:
	$(SYSTEM) redis chromium

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(TEST_STAMP)
	$(VENV)/bin/mypy

pytest: $(TEST_STAMP) system-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## test-floors: the tests that exercise the dependencies, on the lowest versions pyproject.toml
## declares (pinned in constraints/floors.txt), in a virtualenv of their own
FLOORS_VENV  ?= .venv-floors
FLOORS_STAMP := $(FLOORS_VENV)/.floors-$(shell cat pyproject.toml constraints/floors.txt | cksum | cut -d' ' -f1)
# Flask and its session tests (flask, werkzeug, itsdangerous), the stores (cachetools, redis,
# hiredis) and the middleware (werkzeug's cookies): about two minutes.
FLOORS_TESTS ?= tests/compat/flask tests/integrations/test_flask.py tests/stores tests/middleware
FLOORS_PIP   := $(FLOORS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check

.PHONY: test-floors

$(FLOORS_STAMP): pyproject.toml constraints/floors.txt
	$(SYSTEM) venv
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_PIP) --upgrade 'pip>=25.1'
	$(FLOORS_PIP) -c constraints/floors.txt -e '.[redis,flask,server,client,testing]' \
		pytest pytest-timeout hypothesis starlette fastapi
	rm -f $(FLOORS_VENV)/.floors-*
	touch $@

test-floors: $(FLOORS_STAMP)
	$(SYSTEM) redis
	$(FLOORS_VENV)/bin/python -m pytest -q -p no:cacheprovider $(FLOORS_TESTS)

## bench: the side-by-side benchmarks (see docs/benchmarks.md)
bench: | $(PY)
	$(SYSTEM) redis
	command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "wrk is missing (apt-get install wrk): the end-to-end part falls back to a Python client" >&2
	$(PIP) -e '.[redis,django]' --group bench
	$(PY) -m benchmarks $(BENCH_ARGS)
	$(PY) -m benchmarks.django_read

## screenshots: refresh docs/devices.png from the end-to-end test (headless Chromium)
screenshots: $(TEST_STAMP) system-deps
	UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/e2e -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
