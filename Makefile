# The two quickstart commands: `make demo` (the main job) and `make test` (every test).
# Each makes its own virtual environment in .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
CODE := $(wildcard nas workers api)

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nas demo

lint: $(STAMP)
	$(BIN)/ruff check $(CODE) tests benchmarks
	$(BIN)/ruff format --check $(CODE) tests benchmarks
	$(BIN)/mypy $(CODE)

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/trainer.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
