# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo

.PHONY: run test install lint typecheck demo clean-venv bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Build the demo workspace if it is missing, then open the dashboard on it.
run: $(STAMP)
	$(BIN)/luciq demo --dir $(DEMO)

## Install and run the whole suite.
test: $(STAMP)
	$(BIN)/ruff check luciq_tui tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check luciq_tui tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean-venv:
	rm -rf $(VENV)
