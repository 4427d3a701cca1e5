"""Client ID metadata documents cannot make the server fetch internal addresses.

A client_id URL is fetched by the server, so DOT's SSRF-hardened fetcher stays in
charge: loopback, private and link-local addresses are refused before any
connection. Only tests widen it, through a setting no environment variable sets.
"""

import pytest
from django.conf import settings as django_settings

from oauth_server.cimd import MetadataFetcher, cimd_test_hosts_check
from oauth_server.conf import server_settings
from oauth_server.models import Application
from tests.https_server import document_server
from tests.oauth_server.flows import CodeRequest

pytestmark = pytest.mark.django_db

REDIRECT_URI = "https://agent.example/callback"


@pytest.fixture
def docs(tmp_path):
    with document_server(tmp_path) as server:
        server.serve(
            "/client.json",
            {
                "client_id": server.url("/client.json"),
                "client_name": "Loopback",
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "none",
            },
        )
        yield server


def authorize(client, user, client_id: str):
    client.force_login(user)
    return client.get(CodeRequest(client_id=client_id, redirect_uri=REDIRECT_URI).url())


def test_settings_allow_no_test_hosts():
    """The deployment settings never widen the fetcher."""
    assert "cimd_test_hosts" not in django_settings.OAUTH_SERVER
    assert server_settings().cimd_test_hosts == ()
    fetcher = django_settings.OAUTH2_PROVIDER["CIMD_METADATA_FETCHER"]
    assert fetcher == "oauth_server.cimd.MetadataFetcher"


def test_system_check_refuses_test_hosts_without_debug(settings):
    """A deployment that copied the test allow-list fails `manage.py check`."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "cimd_test_hosts": ("x.test",)}
    settings.DEBUG = False
    assert [e.id for e in cimd_test_hosts_check()] == ["oauth_server.E001"]
    settings.OAUTH_SERVER = {
        k: v for k, v in settings.OAUTH_SERVER.items() if k != "cimd_test_hosts"
    }
    assert cimd_test_hosts_check() == []


def test_loopback_metadata_url_is_refused(client, user, docs):
    """A valid document on loopback is never fetched: unknown client, error page."""
    response = authorize(client, user, docs.url("/client.json"))

    assert response.status_code == 400
    assert not response.has_header("Location")
    assert docs.requests == []
    assert not Application.objects.exists()


def test_allow_list_covers_only_its_hosts(client, user, docs, settings):
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "cimd_test_hosts": ("metadata.test",),
        "cimd_test_ca_file": str(docs.ca_file),
    }
    response = authorize(client, user, docs.url("/client.json"))

    assert response.status_code == 400
    assert docs.requests == []


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1/client.json",
        "https://[::1]/client.json",
        "https://10.0.0.8/client.json",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.1.1:8443/client.json",
    ],
)
def test_internal_addresses_are_refused(client_id):
    from oauth2_provider.cimd import CIMDError

    with pytest.raises(CIMDError):
        MetadataFetcher().fetch(client_id)


@pytest.mark.parametrize(
    "client_id",
    [
        "http://agent.example/client.json",
        "https://user:pw@agent.example/client.json",
        "https://agent.example/client.json#frag",
        "https://agent.example/../client.json",
    ],
)
def test_malformed_client_id_urls_are_unknown_clients(client, user, client_id):
    response = authorize(client, user, client_id)
    assert response.status_code == 400
    assert not Application.objects.exists()
