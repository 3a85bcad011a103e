# 民议 Minyi — the two commands of the README, and what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup browser postgres clean

## Set up everything and run the app on SQLite with demo users and data.
run: setup
	$(BIN)/minyi db upgrade
	$(BIN)/minyi demo
	$(BIN)/minyi run

## Set up everything and run the whole test suite (SQLite, PostgreSQL, headless Chromium).
test: setup browser postgres
	$(BIN)/python -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Debian's Chromium for the browser tests (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

## Start the local PostgreSQL server when one is installed but not running.
postgres:
	@bash .ci/start-postgres

clean:
	rm -rf $(VENV) instance test-output
