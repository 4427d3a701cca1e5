"""`make serve`: names missing variables up front, collects static files, runs gunicorn."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "OAUTH_ISSUER")


def make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in REQUIRED}


@pytest.mark.parametrize("missing", [REQUIRED, ("SECRET_KEY",), ("OAUTH_ISSUER",)])
def test_missing_variables_are_named(base_env, missing):
    """Before installing or starting anything, every missing variable is named."""
    present = {name: "set" for name in REQUIRED if name not in missing}

    result = make("serve", env={**base_env, **present})

    assert result.returncode == 2
    assert f"make serve: set {' '.join(missing)} " in result.stderr
    assert "docs/production.md" in result.stderr
    assert "collectstatic" not in result.stdout


def test_serve_collects_static_files_then_starts_gunicorn(base_env):
    """With the variables set, the recipe collects static files, then runs gunicorn."""
    env = {**base_env, **{name: "set" for name in REQUIRED}}

    result = make("--dry-run", "serve", env=env)

    lines = result.stdout.splitlines()
    collect = next(i for i, s in enumerate(lines) if "collectstatic" in s)
    serve = next(i for i, s in enumerate(lines) if "gunicorn --config" in s)
    assert result.returncode == 0, result.stderr
    assert collect < serve
    assert lines[collect].startswith("DEBUG=false ")
    assert lines[serve].startswith("DEBUG=false exec .venv/bin/gunicorn")
