"""Settings read the environment safely: fail closed in production, pass --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oauth_server import keys

ROOT = Path(__file__).resolve().parent.parent


def run_manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    dev_only = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dev_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict[str, str]:
    var = tmp_path_factory.mktemp("var")
    return {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-" + "y" * 30,
        "ALLOWED_HOSTS": "auth.example.com",
        "OAUTH_ISSUER": "https://auth.example.com",
        "OIDC_RSA_PRIVATE_KEY": keys.generate_rsa_pem(),
        "VAR_DIR": str(var),
        # Preload is an operator decision (README); a site that opts in is clean.
        "SECURE_HSTS_PRELOAD": "true",
    }


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "OIDC_RSA_PRIVATE_KEY", "OAUTH_ISSUER"]
)
def test_production_refuses_to_start_without(production_env, missing):
    """With DEBUG off, a missing secret, host list, issuer or key stops the process."""
    env = {**production_env, missing: ""}

    result = run_manage(["check"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_check_deploy_is_clean(production_env):
    """`check --deploy` with a production-like environment reports nothing."""
    result = run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"], production_env
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "issuer",
    ["http://auth.example.com", "https://auth.example.com/path", "auth.example.com"],
)
def test_production_issuer_must_be_an_https_origin(production_env, issuer):
    """OAUTH_ISSUER is an https origin: no plain http, no path, no bare host."""
    result = run_manage(["check"], {**production_env, "OAUTH_ISSUER": issuer})

    assert result.returncode != 0
    assert "OAUTH_ISSUER" in result.stderr
