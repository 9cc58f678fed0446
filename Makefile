# Set-up and checks (README). Every target uses one editable install in .venv, so
# `make demo` and `make test` can run in any order and edits to src/ and networks/
# are seen by both, by `softcalc` and by a bare `pytest`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# pip install runs again only when pyproject.toml changes
STAMP_RUN  := $(VENV)/.installed-run
STAMP_DEV  := $(VENV)/.installed-dev
STAMP_BENCH := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck pytest docs docs-serve bench clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,docs]"
	touch $@ $(STAMP_RUN)

$(STAMP_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/softcalc demo

# Python files checked by ruff: the package, tests, benchmarks and the scripts next to the docs
LINT_PATHS := src tests benchmarks docs/hooks docs/calibration_strengths.py docs/dependency_effects.py docs/expected_scores.py docs/case_overlap.py docs/audit_priority.py docs/tail_audit.py docs/finding_surprisal.py docs/finding_ablation.py docs/compare_networks.py docs/site_counts.py fuzz

lint: $(STAMP_DEV)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

pytest: $(STAMP_DEV)
	$(BIN)/python -m pytest

# The documentation site, built offline; --strict turns every warning into an error.
docs: export NO_MKDOCS_2_WARNING = 1
docs: $(STAMP_DEV)
	$(BIN)/mkdocs build --strict --quiet

docs-serve: export NO_MKDOCS_2_WARNING = 1
docs-serve: $(STAMP_DEV)
	$(BIN)/mkdocs serve

test: lint typecheck pytest docs

# benchmarks/run.py, then every benchmarks/bench_*.py; each writes its own section of
# benchmarks/RESULTS.md.
bench: $(STAMP_BENCH)
	$(BIN)/python benchmarks/run.py
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(BIN)/python "$$script" || exit 1; \
	done

# Fuzz the loader, the API and the CLI for FUZZ_SECONDS (default 15 min); see docs/robustness.md.
FUZZ_SECONDS ?= 900
FUZZ_JOBS ?= 2
fuzz: $(STAMP_DEV)
	$(BIN)/python fuzz/fuzz_softcalc.py --budget $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS)

clean:
	rm -rf $(VENV) build dist site .pytest_cache .mypy_cache .ruff_cache
