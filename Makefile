# Set-up and everyday commands. Everything installs into ./.venv; nothing global.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DEBUG ?= true

.PHONY: install run client serve serve-env test test-postgres lint format bench bench-scale clean \
	browser demo nginx nss-tools cluster cluster-manage test-cluster messages gettext

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
DEMO_WEB_SECRET = $${CLIENT_SECRET:-$$($(BIN)/python -c 'import json; print(json.load(open("var/demo.json"))["clients"]["marginalia-web"]["client_secret"])')}
# The MCP server's own client secret (introspection, token exchange), likewise
# unless MCP_CLIENT_SECRET is set; empty, with the reason on stderr, if the demo
# data has no `bookshelf-mcp` client.
DEMO_MCP_SECRET = $${MCP_CLIENT_SECRET:-$$($(BIN)/python -c 'import json, sys; c = json.load(open("var/demo.json"))["clients"].get("bookshelf-mcp"); print(c["client_secret"]) if c and c.get("client_secret") else sys.exit("make run: var/demo.json has no secret for the MCP server'"'"'s client bookshelf-mcp (is it in oauth_server/demo.py?); set MCP_CLIENT_SECRET or register it.")')}

# The server on :8000, the sample web client on :8001 and the catalogue MCP server
# on :8002. Taken ports are reported before the demo secrets are printed again;
# Ctrl-C or SIGTERM stops all three (config/launcher.py).
run: install
	@$(BIN)/python -m config.launcher --check
	@$(MAKE) --no-print-directory demo
	@echo ""
	@echo "Authorization server: http://127.0.0.1:8000/"
	@echo "Discovery:            http://127.0.0.1:8000/.well-known/openid-configuration"
	@echo "Sample client:        http://127.0.0.1:8001/  (Marginalia, a third party that signs in with the server)"
	@echo "MCP server:           http://127.0.0.1:8002/mcp  (the one URL to give an AI agent)"
	@echo "Demo credentials and client secrets are above (and in var/demo.json)."
	@web_secret="$(DEMO_WEB_SECRET)"; mcp_secret="$(DEMO_MCP_SECRET)"; \
	  test -n "$$mcp_secret" || exit 1; \
	  exec env CLIENT_SECRET="$$web_secret" MCP_CLIENT_SECRET="$$mcp_secret" $(BIN)/python -m config.launcher

# The sample web client alone, for a server already running on :8000.
client: demo
	@echo "Sample client: http://127.0.0.1:8001/"
	@CLIENT_SECRET="$(DEMO_WEB_SECRET)" $(BIN)/python -m clients.web runserver 127.0.0.1:8001

# The production server: gunicorn (config/gunicorn.py) with DEBUG off, static files
# collected first and served by WhiteNoise. Run `manage.py migrate` before it.
# Required: SECRET_KEY, ALLOWED_HOSTS, OAUTH_ISSUER (https) and an OIDC signing key
# (OIDC_RSA_PRIVATE_KEY, or active.pem in OIDC_KEY_DIR); see docs/production.md.
SERVE_REQUIRED := SECRET_KEY ALLOWED_HOSTS OAUTH_ISSUER

serve: serve-env install
	DEBUG=false $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DEBUG=false exec $(BIN)/gunicorn --config config/gunicorn.py config.wsgi

# Before installing anything: name every required variable that is missing.
serve-env:
	@missing=""; for name in $(SERVE_REQUIRED); do \
	  eval "value=\$${$$name:-}"; [ -n "$$value" ] || missing="$$missing $$name"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make serve: set$$missing (and an OIDC signing key: OIDC_RSA_PRIVATE_KEY or OIDC_KEY_DIR/active.pem); see docs/production.md" >&2; \
	  exit 2; \
	fi

# Debian's Chromium for the browser tests; installed when missing and we are root.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; }

# Debian's nginx for the cluster; installed when missing and we are root.
nginx:
	@test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	  else \
	    echo "make cluster needs Debian's nginx: sudo apt-get install nginx" >&2; exit 1; \
	  fi; }

# certutil, to give the browser test of the cluster its own trust store with the
# cluster's CA (Debian's libnss3-tools).
nss-tools:
	@command -v certutil >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnss3-tools; \
	  else \
	    echo "The cluster's browser test needs certutil: sudo apt-get install libnss3-tools" >&2; exit 1; \
	  fi; }

# The production topology on loopback (docs/cluster.md): nginx with TLS on
# https://localhost:8443 in front of gunicorn on :8101 and :8102, PostgreSQL database
# bookshelf_cluster, Redis database 2 (DATABASE_URL / REDIS_URL override them).
# Ctrl-C stops everything it started.
cluster: install nginx
	$(BIN)/python -m deploy.cluster

# manage.py against the cluster's database and settings: make cluster-manage ARGS="..."
cluster-manage: install
	$(BIN)/python -m deploy.cluster manage $(ARGS)

# The cluster tests (tests/cluster/): they start their own clusters, on a test
# database of the local PostgreSQL, Redis database 2, and private service instances.
test-cluster: install nginx browser nss-tools
	$(BIN)/pytest tests/cluster -m cluster

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

# GNU gettext for `make messages` (not needed to run or test: the compiled catalogues
# are committed); installed when missing and we are root.
gettext:
	@command -v xgettext >/dev/null && command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; \
	  else \
	    echo "make messages needs GNU gettext: sudo apt-get install gettext" >&2; exit 1; \
	  fi; }

# The translation catalogues (docs/contributing.md, Translations): the marked strings
# of the server into locale/*/LC_MESSAGES/django.po, then the .mo files Django loads.
# The sample client is a third party: it is not ours to translate; the MCP server
# has no pages.
MESSAGES_IGNORE := --ignore='clients/*' --ignore='tests/*' --ignore='bench/*' \
	--ignore='deploy/*' --ignore='docs/*' --ignore='mcp_server/*' --ignore='staticfiles/*' \
	--ignore='var/*' --ignore='test-results/*'

messages: install gettext
	$(BIN)/python manage.py makemessages --all --no-location $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages --ignore='.venv'

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# gunicorn + production settings on loopback, SQLite then PostgreSQL + Redis (both
# must be reachable; BENCH_* variables in bench/run.py), then the scale run with a
# million stored tokens; then the in-process token endpoint by client-secret hasher.
bench: install
	DEBUG=false $(BIN)/python -m bench.run
	$(BIN)/python -m tests.bench.token_endpoint
	$(BIN)/python -m tests.bench.cleartokens

# The scale run alone (PostgreSQL + Redis): the load at 1,000 and at 1,000,000
# stored access tokens, then cleartokens on them; the other figures in
# bench/results.json stay.
bench-scale: install
	DEBUG=false BENCH_SCENARIOS=scale BENCH_BACKENDS=postgres $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
