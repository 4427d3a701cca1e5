"""`manage.py check --deploy` with the production profile's environment."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.plugin_env import production_environ, run_manage

ROOT = Path(__file__).resolve().parents[2]


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_manage(["check", "--deploy", "--fail-level", "WARNING"], env)


@pytest.fixture(scope="module")
def environ(tmp_path_factory) -> dict[str, str]:
    var = tmp_path_factory.mktemp("var")
    return {**production_environ(), "VAR_DIR": str(var), "STATIC_ROOT": str(var)}


def warnings_of(result: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"\(([a-z_.]+\.[WE]\d+)\)", result.stdout + result.stderr)


def test_deploy_checks_are_clean(environ):
    """The production profile (plus preloading, an opt-in) passes with no warning."""
    result = check_deploy({**environ, "SECURE_HSTS_PRELOAD": "true"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_hsts_preload_is_the_only_opt_in(environ):
    """Without preloading, the one remark is the preload list's."""
    result = check_deploy(environ)

    assert warnings_of(result) == ["security.W021"]


@pytest.mark.parametrize(
    ("variable", "value", "warning"),
    [
        ("SECURE_SSL_REDIRECT", "false", "security.W008"),
        ("SECURE_HSTS_SECONDS", "0", "security.W004"),
        ("SESSION_COOKIE_SECURE", "false", "security.W012"),
        ("CSRF_COOKIE_SECURE", "false", "security.W016"),
    ],
)
def test_weakening_a_default_is_reported(environ, variable, value, warning):
    """Each hardening default comes from the environment, and turning it off shows."""
    result = check_deploy({**environ, "SECURE_HSTS_PRELOAD": "true", variable: value})

    assert result.returncode != 0
    assert warnings_of(result) == [warning]
