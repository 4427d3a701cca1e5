"""The registry of resource servers (oauth_server/resource_servers.py)."""

import pytest

from oauth_server import resource_servers
from oauth_server.conf import server_settings
from tests.test_layout import ROOT, imported_modules

SERVERS = resource_servers.registry(
    api_url="https://auth.example.com/api/",
    mcp_url="https://mcp.example.com/mcp",
    mcp_client_ids=("bookshelf-mcp",),
)


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        ("https://auth.example.com/api/", "api"),
        ("https://auth.example.com/api", "api"),
        ("HTTPS://Auth.Example.com:443/api/", "api"),
        ("https://auth.example.com", "api"),  # the origin RFC 9728 describes
        ("https://mcp.example.com/mcp", "mcp"),
        ("https://mcp.example.com/mcp/", "mcp"),
        ("https://auth.example.com/api/v1/", None),
        ("https://auth.example.com:8443/api/", None),
        ("http://auth.example.com/api/", None),
        ("https://mcp.example.com/", None),
        ("https://mcp.example.com/mcp?x=1", None),
        ("https://mcp.example.com/mcp#x", None),
        ("https://user@mcp.example.com/mcp", None),
        ("https://[::1/mcp", None),
        ("https://mcp.example.com:99999/mcp", None),
        (" https://mcp.example.com/mcp", None),
        ("mcp.example.com/mcp", None),
        ("", None),
        (None, None),
        (["https://mcp.example.com/mcp"], None),
    ],
)
def test_find_matches_canonical_uris_only(uri, key):
    server = resource_servers.find(SERVERS, uri)
    assert (server.key if server else None) == key


def test_the_mcp_client_acts_as_the_mcp_server():
    assert resource_servers.of_client(SERVERS, "bookshelf-mcp").key == "mcp"
    assert resource_servers.of_client(SERVERS, "marginalia-web") is None


def test_tokens_for_a_server_may_carry_the_openid_scopes():
    api = resource_servers.find(SERVERS, "https://auth.example.com/api/")
    assert api.allowed_scopes() == {
        "books:read",
        "books:write",
        "openid",
        "profile",
        "email",
    }


def test_settings_build_the_registry():
    """config/settings.py hands the configured registry to OAUTH_SERVER."""
    servers = server_settings().resource_servers
    assert [s.key for s in servers] == ["api", "mcp"]
    assert all(resource_servers.normalise(s.uri) for s in servers)


def test_registry_has_no_django_import():
    names = imported_modules(ROOT / "oauth_server/resource_servers.py")
    assert not any(name.startswith("django") for name in names)
