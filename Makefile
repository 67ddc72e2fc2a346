# hepml: make help lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.installed

.PHONY: help install train test test-full lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade -q pip
	$(BIN)/pip install -q -c $(CONSTRAINTS) torch==2.13.0
	$(BIN)/pip install -q -c $(CONSTRAINTS) -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## create .venv/ and install hepml with pinned dependencies

train: $(STAMP)  ## train the tau pT regression (generates its sample on first use)
	$(BIN)/hepml train experiment=tau_regression

test: $(STAMP)  ## run the default test suite (slow tests excluded)
	$(BIN)/pytest -q

test-full: $(STAMP)  ## run every test, slow ones included
	$(BIN)/pytest -q -m ""

lint: $(STAMP)  ## ruff over the code, mypy over the package
	$(BIN)/ruff check hepml tests scripts
	$(BIN)/mypy hepml

bench: $(STAMP)  ## throughput benchmarks (generation, data loading, training step)
	$(BIN)/python scripts/bench.py

clean:  ## remove the environment and caches
	rm -rf $(VENV) .cache
