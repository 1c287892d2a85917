# dispatchmap: `make demo` and `make test` install what is missing first.
# PORT=8050 sets the dashboard port of the demo; ARGS passes more demo options.
SHELL := /bin/bash
VENV := .venv/bin
PORT ?= 8050
PYTEST_ARGS ?=

.PHONY: setup demo test lint format bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	DM_DASH_PORT=$(PORT) $(VENV)/dispatchmap demo $(ARGS)

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy dispatchmap feeds geo store usecases dashboard

test: lint
	$(VENV)/pytest $(PYTEST_ARGS)

format: setup
	$(VENV)/ruff check --fix .
	$(VENV)/ruff format .

clean:
	rm -rf .state artifacts .pytest_cache .mypy_cache .ruff_cache
