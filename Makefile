# The README's commands. `make run` starts Maillage with its demo network; `make test` runs
# the whole suite on SQLite, then again on PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_POSTGRES ?= postgresql://127.0.0.1:5432/postgres

.PHONY: run test lint bench install clean

$(BIN)/maillage: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# axe-core, which the browser tests inject into each page (tests/package-lock.json).
tests/node_modules/.package-lock.json: tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund

install: $(BIN)/maillage

run: install
	$(BIN)/maillage db upgrade
	$(BIN)/maillage import-communes
	$(BIN)/maillage demo
	$(BIN)/maillage serve --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check .

# The OpenID Connect provider the sign-in tests run (Node.js), as its lockfile pins it.
tests/oidc/node_modules: tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund
	@touch $@

test: lint tests/oidc/node_modules tests/node_modules/.package-lock.json
	@echo "== The suite on SQLite"
	$(BIN)/pytest
	@echo "== The suite on PostgreSQL ($(TEST_POSTGRES))"
	MAILLAGE_TEST_DATABASE_URL=$(TEST_POSTGRES) $(BIN)/pytest

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
