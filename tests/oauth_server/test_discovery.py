"""Discovery: OpenID Connect and RFC 8414 documents agree and list what we offer."""

import pytest
from django.urls import reverse

from oauth_server import scopes

pytestmark = pytest.mark.django_db

DOCUMENTS = ["oidc-connect-discovery-info", "oauth-server-metadata"]


@pytest.fixture(params=DOCUMENTS)
def document(request, client):
    response = client.get(reverse(f"oauth2_provider:{request.param}"))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def test_documents_live_at_the_site_root(client):
    assert client.get("/.well-known/openid-configuration").status_code == 200
    assert client.get("/.well-known/oauth-authorization-server").status_code == 200


def test_every_offered_endpoint_is_listed(document):
    """Each endpoint we serve is advertised with an absolute URL under the issuer."""
    assert document["issuer"] == "http://testserver"
    for key, path in [
        ("authorization_endpoint", "/o/authorize/"),
        ("token_endpoint", "/o/token/"),
        ("userinfo_endpoint", "/o/userinfo/"),
        ("jwks_uri", "/o/jwks/"),
        ("revocation_endpoint", "/o/revoke/"),
        ("introspection_endpoint", "/o/introspect/"),
        ("device_authorization_endpoint", "/o/device-authorization/"),
        ("end_session_endpoint", "/o/logout/"),
    ]:
        assert document[key] == f"http://testserver{path}"


def test_only_secure_choices_are_advertised(document):
    """S256 only, code only, no implicit or password grants."""
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["response_types_supported"] == ["code"]
    assert document["grant_types_supported"] == [
        "authorization_code",
        "client_credentials",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    ]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_scopes_come_from_the_registry(document):
    assert document["scopes_supported"] == list(scopes.SCOPES)


def test_both_documents_agree(client):
    """Every key the two documents share has the same value."""
    oidc, rfc8414 = (
        client.get(reverse(f"oauth2_provider:{name}")).json() for name in DOCUMENTS
    )
    shared = set(oidc) & set(rfc8414)
    assert {"issuer", "token_endpoint", "grant_types_supported"} <= shared
    assert {key: oidc[key] for key in shared} == {key: rfc8414[key] for key in shared}


def test_claims_supported_lists_profile_and_email_claims(client):
    claims = client.get("/.well-known/openid-configuration").json()["claims_supported"]
    assert {"sub", "name", "preferred_username", "email"} <= set(claims)


def test_issuer_follows_the_request_host(client):
    """Without OAUTH_ISSUER the issuer is derived from the request (any host/port)."""
    response = client.get(
        "/.well-known/openid-configuration", HTTP_HOST="localhost:9000"
    )
    assert response.json()["issuer"] == "http://localhost:9000"


def test_configured_issuer_wins(client, oauth2_settings_override):
    """OAUTH_ISSUER pins the issuer and every endpoint to one public origin."""
    oauth2_settings_override(OIDC_ISS_ENDPOINT="https://auth.example.com")

    for name in DOCUMENTS:
        document = client.get(reverse(f"oauth2_provider:{name}")).json()
        assert document["issuer"] == "https://auth.example.com"
        assert document["token_endpoint"] == "https://auth.example.com/o/token/"


def test_protected_resource_metadata_names_this_issuer(client):
    """RFC 9728: the resource points at the same authorization server."""
    document = client.get("/.well-known/oauth-protected-resource").json()
    assert document["authorization_servers"] == ["http://testserver"]


def test_page_languages_are_advertised(document):
    """ui_locales_supported (OIDC Discovery §3, RFC 8414 §2): English and German."""
    assert document["ui_locales_supported"] == ["en", "de"]
