# The quickstart commands: `make serve` (the main job: the REST service), `make test`
# (every test), and `make demo` (one network trained batch-style).
# Each makes its own virtual environment in .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
CODE := $(wildcard nas nas_cli workers api)

.PHONY: serve demo test lint bench bench-api clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# SQLite (./nas.db), a local Ray, the API on 127.0.0.1:8000 and a job runner in one process.
serve: $(STAMP)
	$(BIN)/nas serve

demo: $(STAMP)
	$(BIN)/nas demo

lint: $(STAMP)
	$(BIN)/ruff check $(CODE) tests benchmarks
	$(BIN)/ruff format --check $(CODE) tests benchmarks
	$(BIN)/mypy $(CODE)
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/trainer.py

bench-api: $(STAMP)
	$(BIN)/python benchmarks/api.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
