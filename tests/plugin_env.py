"""Loaded by pytest before Django: the settings profile a test run uses.

- `dev` (default): like `make run`: DEBUG on (generated dev secret and OIDC key, http
  on loopback, issuer taken from the request).
- `production` (`TEST_PROFILE=production`): the environment a deployment has behind
  its TLS proxy: DEBUG off, a fixed https issuer, a real secret and signing key, http
  redirect URIs refused. `make test` runs `tests/security/` under this profile too.

pytest-django still runs each test with settings.DEBUG False; the profile decides
everything `config.settings` derives from DEBUG and the environment.
"""

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

PROFILE = os.environ.get("TEST_PROFILE", "dev")
PRODUCTION_ISSUER = "https://testserver"


def production_environ() -> dict[str, str]:
    """The environment of a deployment behind one TLS proxy (fresh secrets, temp dirs)."""
    from oauth_server import keys  # plain module: no Django import

    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "OAUTH_ISSUER": PRODUCTION_ISSUER,
        # Tests speak to Django directly, as the one TLS proxy would: they mark
        # requests https with X-Forwarded-Proto (tests/conftest.py).
        "TRUSTED_PROXY_COUNT": "1",
        "OIDC_RSA_PRIVATE_KEY": keys.generate_rsa_pem(),
        "VAR_DIR": tempfile.mkdtemp(prefix="bookshelf-production-test-"),
        # Collected static files: none needed, but WhiteNoise wants the folder.
        "STATIC_ROOT": tempfile.mkdtemp(prefix="bookshelf-production-static-"),
    }


def run_manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a fresh process with `env` over this one's environment,
    without the development settings this test run itself uses."""
    dev_only = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dev_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(__file__).resolve().parent.parent,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


if PROFILE == "production":
    os.environ.update(production_environ())
elif PROFILE == "dev":
    os.environ.setdefault("DEBUG", "true")
else:
    raise SystemExit(f"TEST_PROFILE must be dev or production, not {PROFILE!r}")
