# The two commands a newcomer needs: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo serve tools test lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The dashboard over the built-in simulator, with demo traffic.
demo: setup
	$(BIN)/llm-gateway serve --dashboard --demo

serve: setup
	$(BIN)/llm-gateway serve

# The end-to-end dashboard tests drive a real terminal through tmux; the Codex test runs the
# real Codex CLI (a pinned version, into the ignored .tools/ folder).
CODEX_VERSION := 0.171.0
tools:
	@command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	@.tools/node_modules/.bin/codex --version 2>/dev/null | grep -q ' $(CODEX_VERSION)$$' || \
		npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error @openai/codex@$(CODEX_VERSION)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup tools lint
	$(BIN)/pytest

bench: setup
	bench/run
