# dyngrad developer commands. Each target creates .venv on first use and reinstalls the package
# (with the extras it needs) only when pyproject.toml changes: a stamp file per extras set records
# the last install.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# No pytest-xdist: on the 2-core machines each worker's start-up (importing torch) eats most of
# the gain. `make test PYTEST_ARGS="-x -q"` stops at the first failure.
PYTEST_ARGS ?= -q
LINT_PATHS := dyngrad tests $(wildcard bench)

.PHONY: demo test lint bench conformance clean-venv

# One BLAS thread: dyngrad's tensors in the demo are small, and threaded BLAS only waits there.
demo: $(VENV)/.stamp-demo
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m dyngrad.tour

test: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check $(LINT_PATHS)

bench: $(VENV)/.stamp-dev
	@if [ -f bench/overhead.py ]; then $(PY) bench/overhead.py && $(PY) bench/gc_deep.py; \
	else echo "bench/overhead.py does not exist yet"; fi

conformance: $(VENV)/.stamp-dev
	@if [ -f tests/conformance.py ] || [ -d tests/conformance ]; then $(PY) -m tests.conformance; \
	else echo "tests/conformance does not exist yet"; fi

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-demo: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[demo]'
	touch $@

# The dev stamp covers the demo extras too, so `make test` then `make demo` installs once.
$(VENV)/.stamp-dev: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[dev,demo]'
	touch $@ $(VENV)/.stamp-demo

clean-venv:
	rm -rf $(VENV)
