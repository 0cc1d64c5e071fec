# The two commands: `make run` and `make test`. Everything else is a step they take.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GRAPHIQL := gateway/static/graphiql
WEBTEST := tests/e2e/web
HTTPAUDIT := tests/e2e/graphql_http
FEDERATION := tests/e2e/federation

.PHONY: install run test lint typecheck pytest schema sandbox bench fuzz audit clean

install: $(STAMP) $(GRAPHIQL)/node_modules/.package-lock.json $(WEBTEST)/node_modules/.package-lock.json \
	$(HTTPAUDIT)/node_modules/.package-lock.json $(FEDERATION)/node_modules/.package-lock.json

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# GraphiQL's JavaScript, pinned in package-lock.json, served by the gateway so it works offline.
$(GRAPHIQL)/node_modules/.package-lock.json: $(GRAPHIQL)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(GRAPHIQL) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else \
		echo "npm not found: GraphiQL will load its assets from a CDN (needs internet access)"; \
	fi

# axe-core for the web page's browser test (tests/e2e/web), pinned in package-lock.json. The page itself
# (gateway/static/web) has no build step and no npm packages. The test drives Debian's chromium
# (`apt-get install -y chromium`); without it, or without npm, the browser test skips (fails under CI=true).
$(WEBTEST)/node_modules/.package-lock.json: $(WEBTEST)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(WEBTEST) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else \
		echo "npm not found: the web page's browser test will skip (no axe-core)"; \
	fi

# graphql-http's GraphQL-over-HTTP server audits (tests/e2e/graphql_http), pinned in package-lock.json.
# Without npm the audit test skips (fails under CI=true).
$(HTTPAUDIT)/node_modules/.package-lock.json: $(HTTPAUDIT)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(HTTPAUDIT) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else \
		echo "npm not found: the GraphQL-over-HTTP audit will skip (no graphql-http)"; \
	fi

# Hive Gateway and Guild composition for the federation router test (tests/e2e/federation), pinned in
# package-lock.json (with the override of @graphql-tools/batch-execute it needs to install). Without npm the
# router test skips (fails under CI=true).
$(FEDERATION)/node_modules/.package-lock.json: $(FEDERATION)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(FEDERATION) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else \
		echo "npm not found: the federation router test will skip (no Hive Gateway)"; \
	fi

run: install
	$(BIN)/patientoverblik demo

sandbox: install
	$(BIN)/patientoverblik sandbox

test: install lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

schema: $(STAMP)
	$(BIN)/patientoverblik export-schema --output schema.graphql

bench: install
	$(BIN)/python -m bench

# The schema fuzzer of `make test` (tests/e2e/fuzz) with many more operations per caller, each caller's
# run bounded by FUZZ_TIMEOUT seconds. FUZZ_SEED draws other operations.
FUZZ_EXAMPLES ?= 1000
FUZZ_TIMEOUT ?= 900
FUZZ_SEED ?= 0
fuzz: $(STAMP)
	PATIENTOVERBLIK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) PATIENTOVERBLIK_FUZZ_SEED=$(FUZZ_SEED) \
		$(BIN)/pytest tests/e2e/fuzz --timeout=$(FUZZ_TIMEOUT)

# The GraphQL-over-HTTP audit: 0 failures and 0 warnings (ADR 0017). With AUDIT_URL, audit a running
# gateway instead (e.g. `make run` in another terminal: AUDIT_URL=http://127.0.0.1:8000/graphql).
AUDIT_URL ?=
audit: install
	@if [ -n "$(AUDIT_URL)" ]; then \
		node $(HTTPAUDIT)/audit.mjs $(AUDIT_URL); \
	else \
		$(BIN)/pytest $(HTTPAUDIT) -v; \
	fi

clean:
	rm -rf $(VENV) $(GRAPHIQL)/node_modules $(WEBTEST)/node_modules $(HTTPAUDIT)/node_modules \
		$(FEDERATION)/node_modules test-artifacts .mypy_cache .ruff_cache .pytest_cache
