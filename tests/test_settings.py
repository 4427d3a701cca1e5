"""Settings read the environment safely: fail closed in production, pass --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin_env import production_environ, run_manage

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def production_env() -> dict[str, str]:
    return production_environ()


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "OIDC_RSA_PRIVATE_KEY", "OAUTH_ISSUER"]
)
def test_production_refuses_to_start_without(production_env, missing):
    """With DEBUG off, a missing secret, host list, issuer or key stops the process."""
    env = {**production_env, missing: ""}

    result = run_manage(["check"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize(
    "issuer",
    ["http://auth.example.com", "https://auth.example.com/path", "auth.example.com"],
)
def test_production_issuer_must_be_an_https_origin(production_env, issuer):
    """OAUTH_ISSUER is an https origin: no plain http, no path, no bare host."""
    result = run_manage(["check"], {**production_env, "OAUTH_ISSUER": issuer})

    assert result.returncode != 0
    assert "OAUTH_ISSUER" in result.stderr


@pytest.mark.parametrize("name", ["API_RESOURCE_URL", "MCP_SERVER_URL"])
@pytest.mark.parametrize(
    "value", ["/api/", "https://api.example.com/#x", "https://api.example.com/?a=1"]
)
def test_resource_server_uris_must_be_absolute(production_env, name, value):
    """A resource indicator that no client could send stops the process."""
    result = run_manage(["check"], {**production_env, name: value})

    assert result.returncode != 0
    assert name in result.stderr


def test_production_api_resource_is_on_the_issuer(production_env):
    """Unset, the REST API's canonical URI is the issuer's /api/."""
    script = "from django.conf import settings; print(settings.API_RESOURCE_URL)"
    result = run_manage(["shell", "-c", script], production_env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{production_env['OAUTH_ISSUER']}/api/"


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("", "LocMemCache False 5000"),
        ("redis://127.0.0.1:6379/0", "TolerantRedisCache True -"),
    ],
    ids=["no-redis", "redis"],
)
def test_the_cache_is_shared_only_with_redis(production_env, redis_url, expected):
    """Without REDIS_URL each process has its own cache, large enough for its
    bearer entries, applications and list pages (local mode)."""
    script = (
        "from django.conf import settings; c = settings.CACHES['default']; "
        "print(c['BACKEND'].rsplit('.', 1)[-1], settings.CACHE_SHARED, "
        "c.get('OPTIONS', {}).get('MAX_ENTRIES', '-'))"
    )
    result = run_manage(
        ["shell", "-c", script], {**production_env, "REDIS_URL": redis_url}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == expected


# What tests/plugin_env.py may have set in this process, for either profile.
PROFILE_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "OAUTH_ISSUER",
    "TRUSTED_PROXY_COUNT",
    "OIDC_RSA_PRIVATE_KEY",
    "OIDC_KEY_DIR",
    "VAR_DIR",
    "STATIC_ROOT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def import_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Import config.settings alone, in a fresh interpreter with `env` on top of
    this process's environment less what the test profile sets."""
    base = {k: v for k, v in os.environ.items() if k not in PROFILE_VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("signing_key", ["given", "missing"])
def test_importing_production_settings_writes_nothing(tmp_path, signing_key):
    """With DEBUG off, importing settings creates no directory and generates no key;
    a missing signing key is an ImproperlyConfigured, not a new key."""
    env = production_environ()
    for name in ("VAR_DIR", "STATIC_ROOT"):  # the temporary ones it made
        Path(env[name]).rmdir()
    env = {
        **env,
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "ENV_FILE": str(tmp_path / "no.env"),
    }
    if signing_key == "missing":
        env["OIDC_RSA_PRIVATE_KEY"] = ""

    result = import_settings(env)

    if signing_key == "given":
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert "ImproperlyConfigured: No OIDC signing key" in result.stderr
    assert files_under(tmp_path) == []


def test_importing_development_settings_prepares_var_dir(tmp_path):
    """With DEBUG on, VAR_DIR is created with a generated secret and signing key."""
    var = tmp_path / "var"

    result = import_settings(
        {"DEBUG": "true", "VAR_DIR": str(var), "ENV_FILE": str(tmp_path / "no.env")}
    )

    assert result.returncode == 0, result.stderr
    assert files_under(var) == ["oidc", "oidc/active.pem", "secret_key"]
