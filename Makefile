# Set-up and everyday commands. Everything installs into ./.venv; nothing global.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DEBUG ?= true

.PHONY: install run client serve test test-postgres lint format bench clean browser demo

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loaddemo
	$(BIN)/python manage.py loadbooks

# The sample client's secret, from the demo data unless CLIENT_SECRET is set.
DEMO_WEB_SECRET = $${CLIENT_SECRET:-$$($(BIN)/python -c 'import json; print(json.load(open("var/demo.json"))["clients"]["bookshelf-web"]["client_secret"])')}

# The server on :8000 and the sample web client on :8001; Ctrl-C stops both.
run: demo
	@echo ""
	@echo "Authorization server: http://127.0.0.1:8000/"
	@echo "Discovery:            http://127.0.0.1:8000/.well-known/openid-configuration"
	@echo "Sample client:        http://127.0.0.1:8001/  (Bookshelf, signs in with the server)"
	@echo "Demo credentials and client secrets are above (and in var/demo.json)."
	@CLIENT_SECRET="$(DEMO_WEB_SECRET)" $(BIN)/python -m clients.web runserver 127.0.0.1:8001 --noreload & \
	client=$$!; trap 'kill $$client 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The sample web client alone, for a server already running on :8000.
client: demo
	@echo "Sample client: http://127.0.0.1:8001/"
	@CLIENT_SECRET="$(DEMO_WEB_SECRET)" $(BIN)/python -m clients.web runserver 127.0.0.1:8001

# Debian's Chromium for the browser tests; installed when missing and we are root.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; }

# The whole suite in the development profile, then the security properties again in
# the production profile (DEBUG off, https issuer; see tests/plugin_env.py).
PYTEST_PRODUCTION = TEST_PROFILE=production $(BIN)/pytest tests/security

test: install browser
	$(BIN)/pytest
	$(PYTEST_PRODUCTION)

# The same suite on PostgreSQL and Redis (both must be reachable; no skipping).
test-postgres: install browser
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/1} \
	sh -c '$(BIN)/pytest && $(PYTEST_PRODUCTION)'

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# gunicorn + production settings on loopback, SQLite then PostgreSQL + Redis (both
# must be reachable; BENCH_* variables in bench/run.py); then the in-process
# token endpoint by client-secret hasher.
bench: install
	DEBUG=false $(BIN)/python -m bench.run
	$(BIN)/python -m tests.bench.token_endpoint

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
