# Two set-up commands (README): `make demo` and `make test`. Both create .venv if absent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench lint clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	$(BIN)/softcalc demo

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/run.py

# Fuzz the loader, the API and the CLI for FUZZ_SECONDS (default 15 min); see docs/robustness.md.
FUZZ_SECONDS ?= 900
fuzz: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python fuzz/fuzz_softcalc.py --budget $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
