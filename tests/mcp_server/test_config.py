"""`config/mcp.py`: the MCP server's settings, from the environment."""

import pytest

from config import mcp

VARIABLES = [
    "MCP_SERVER_URL",
    "OAUTH_ISSUER",
    "MCP_API_URL",
    "API_RESOURCE_URL",
    "MCP_CLIENT_ID",
    "MCP_CLIENT_SECRET",
    "MCP_TIMEOUT",
    "MCP_INTROSPECTION_CACHE_SECONDS",
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_make_run(monkeypatch):
    monkeypatch.setenv("MCP_CLIENT_SECRET", "s")
    settings = mcp.load()
    assert settings.server_url == "http://127.0.0.1:8002/mcp"
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.client_id == "bookshelf-mcp"
    assert settings.introspection_url == "http://127.0.0.1:8000/o/introspect/"
    assert settings.token_url == "http://127.0.0.1:8000/o/token/"
    assert settings.api_url == "http://127.0.0.1:8000/api/v2/"
    assert settings.api_resource == "http://127.0.0.1:8000/api/"
    assert settings.port == 8002
    assert settings.introspection_cache_seconds == 5
    assert (
        settings.resource_metadata_path == "/.well-known/oauth-protected-resource/mcp"
    )


def test_missing_secret_names_the_variable_and_the_fix():
    with pytest.raises(
        mcp.ConfigurationError, match=r"MCP_CLIENT_SECRET.*var/demo\.json"
    ):
        mcp.load()


def test_urls_follow_the_environment(monkeypatch):
    monkeypatch.setenv("MCP_CLIENT_SECRET", "s")
    monkeypatch.setenv("MCP_SERVER_URL", "https://mcp.example.com/mcp")
    monkeypatch.setenv("OAUTH_ISSUER", "https://auth.example.com/")
    monkeypatch.setenv("API_RESOURCE_URL", "https://api.example.com/")
    settings = mcp.load()
    assert settings.port == 443
    assert settings.token_url == "https://auth.example.com/o/token/"
    assert settings.api_resource == "https://api.example.com/"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MCP_SERVER_URL", "127.0.0.1:8002/mcp"),
        ("OAUTH_ISSUER", "ftp://x"),
        ("MCP_TIMEOUT", "soon"),
    ],
)
def test_malformed_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv("MCP_CLIENT_SECRET", "s")
    monkeypatch.setenv(name, value)
    with pytest.raises(mcp.ConfigurationError, match=name):
        mcp.load()


def test_introspection_cache_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("MCP_CLIENT_SECRET", "s")
    monkeypatch.setenv("MCP_INTROSPECTION_CACHE_SECONDS", "0")
    assert mcp.load().introspection_cache_seconds == 0


def test_secret_stays_out_of_repr(monkeypatch):
    monkeypatch.setenv("MCP_CLIENT_SECRET", "very-secret")
    assert "very-secret" not in repr(mcp.load())


def test_server_without_secret_exits_with_the_reason(capsys):
    """`python -m mcp_server` says what is missing instead of a traceback."""
    from mcp_server.__main__ import main

    assert main([]) == 2
    assert "MCP_CLIENT_SECRET is not set" in capsys.readouterr().err
