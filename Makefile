# 民议 Minyi — the two commands of the README, and what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FRONTEND := web/static/vendor/.built

.PHONY: run test mutation setup browser servers postgres clean

## Set up everything and run the app on SQLite with demo users and data.
run: setup
	$(BIN)/minyi db upgrade
	$(BIN)/minyi demo
	$(BIN)/minyi run --with-worker

## Set up everything, lint with ruff (rules in pyproject.toml), then run the whole test suite (SQLite,
## PostgreSQL, Redis, headless Chromium), one pytest process per core (at most 4; pytest-xdist).
test: setup browser servers postgres
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto --maxprocesses=4

## Mutation testing of the modules that guard integrity and access (docs/testing.md); slow, not part of `test`.
## MODULES="claims forms" runs only those; the score table is printed at the end.
mutation: setup
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/python tests/mutation/run.py $(MODULES)

setup: $(STAMP) $(FRONTEND)

## The designer's modeler (bpmn-js from npm), bundled into web/static/vendor/ (git-ignored).
$(FRONTEND): package-lock.json $(wildcard web/frontend/*.js web/frontend/*.mjs web/frontend/lint/*.js)
	npm ci --no-audit --no-fund
	npm run build
	touch $(FRONTEND)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Debian's Chromium (and CJK fonts for readable screenshots) for the browser tests — never a downloaded browser.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; } || { \
	  echo "Installing Debian's chromium and fonts-noto-cjk for browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

## Debian's redis-server (the tests start their own on a free port), nginx and systemd-analyze (the deployment
## files are checked with `nginx -t` and `systemd-analyze verify`) and openssl (a test certificate).
servers:
	@{ command -v redis-server && { command -v nginx || test -x /usr/sbin/nginx; } && command -v systemd-analyze \
	   && command -v openssl; } >/dev/null 2>&1 || { \
	  echo "Installing Debian's redis-server, nginx, systemd and openssl for the server and deployment tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server nginx systemd openssl >/dev/null; }

## Start the local PostgreSQL server when one is installed but not running; fail when it cannot be reached
## (MINYI_TEST_WITHOUT_PG=1, ignored under CI=true: go on, and pytest skips and counts the PostgreSQL tests).
postgres:
	@bash .ci/start-postgres

clean:
	rm -rf $(VENV) instance test-output mutants
