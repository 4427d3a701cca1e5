"""`clients.config`: defaults, environment overrides, the generated secret key."""

import stat
from pathlib import Path

import pytest

from clients.config import cli_config, dev_secret_key, web_config


@pytest.fixture(autouse=True)
def no_client_env(monkeypatch):
    for name in (
        "CLIENT_ISSUER",
        "CLIENT_ID",
        "CLIENT_SECRET",
        "CLIENT_REDIRECT_URI",
        "CLIENT_API_URL",
        "CLIENT_TOKEN_FILE",
        "CLIENT_VAR_DIR",
        "CLIENT_SECRET_KEY",
        "CLIENT_POST_LOGOUT_REDIRECT_URI",
    ):
        monkeypatch.delenv(name, raising=False)


def test_web_defaults_match_the_demo_registration():
    config = web_config()
    assert config.issuer == "http://127.0.0.1:8000"
    assert config.client_id == "marginalia-web"
    assert config.redirect_uri == "http://127.0.0.1:8001/callback"
    assert config.logout_redirect == "http://127.0.0.1:8001/"
    assert config.api_base == "http://127.0.0.1:8000"


def test_cli_defaults():
    config = cli_config()
    assert config.client_id == "marginalia-cli"
    assert config.token_file == Path("~/.config/marginalia/tokens.json").expanduser()


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("CLIENT_ISSUER", "https://auth.example/")
    monkeypatch.setenv("CLIENT_ID", "mine")
    monkeypatch.setenv("CLIENT_SECRET", "s")
    monkeypatch.setenv("CLIENT_API_URL", "https://api.example")
    monkeypatch.setenv("CLIENT_TOKEN_FILE", str(tmp_path / "t.json"))

    web, cli = web_config(), cli_config()

    assert (web.issuer, web.client_id, web.client_secret) == (
        "https://auth.example",
        "mine",
        "s",
    )
    assert web.api_base == "https://api.example"
    assert cli.token_file == tmp_path / "t.json"
    assert "client_secret='s'" not in repr(web)


def test_dev_secret_key_is_generated_once_and_private(tmp_path):
    first = dev_secret_key(tmp_path / "var")

    assert dev_secret_key(tmp_path / "var") == first
    assert len(first) > 40
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600
