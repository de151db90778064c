# Every target creates the virtualenv on first use, so each works on a fresh clone.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST    ?= 127.0.0.1
PORT    ?= 8000

.PHONY: install run test lint typecheck pytest bench clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## run: the demo app (Starlette, memory store, REST API mounted) on http://127.0.0.1:8000
run: $(STAMP)
	$(PY) -m uvicorn examples.demo:app --host $(HOST) --port $(PORT)

## test: lint, type-check and run every test
test: lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## bench: the side-by-side benchmarks (see docs/benchmarks.md)
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m benchmarks

## screenshots: refresh docs/devices.png from the end-to-end test (headless Chromium)
screenshots: $(STAMP)
	UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/e2e -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
