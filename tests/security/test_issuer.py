"""One issuer: absolute URLs come from OAUTH_ISSUER, never from the Host header."""

import pytest
from django.urls import reverse

from tests.factories import AuthorFactory, BookFactory
from tests.oauth_server.flows import form_post, json_of
from tests.plugin_env import PROFILE

FORGED_HOST = "127.0.0.1:1337"


@pytest.fixture
def pinned_issuer(oauth2_settings_override) -> str:
    """The issuer a deployment configures (the production profile sets it already)."""
    if PROFILE == "production":
        from django.conf import settings

        return settings.OAUTH_ISSUER
    oauth2_settings_override(OIDC_ISS_ENDPOINT="https://auth.example.com")
    return "https://auth.example.com"


def test_discovery_ignores_a_forged_host(client, pinned_issuer, db):
    """Discovery names the configured issuer for any Host (RFC 8414 §3.3, OIDC §4.3)."""
    for name in ("oidc-connect-discovery-info", "oauth-server-metadata"):
        response = client.get(reverse(f"oauth2_provider:{name}"), HTTP_HOST=FORGED_HOST)
        document = response.json()
        assert document["issuer"] == pinned_issuer
        urls = [v for v in document.values() if isinstance(v, str) and "://" in v]
        assert urls
        assert all(
            u == pinned_issuer or u.startswith(pinned_issuer + "/") for u in urls
        )
        assert "max-age" in response["Cache-Control"]


def test_resource_metadata_and_challenge_ignore_a_forged_host(
    api_client, pinned_issuer, db
):
    """RFC 9728 `resource` and the challenge's `resource_metadata` use the issuer."""
    metadata = api_client.get(
        reverse("oauth2_provider:oauth-resource-metadata"), HTTP_HOST=FORGED_HOST
    ).json()
    challenge = api_client.get("/api/v1/books/", HTTP_HOST=FORGED_HOST)[
        "WWW-Authenticate"
    ]

    assert metadata["resource"].startswith(pinned_issuer)
    assert metadata["authorization_servers"] == [pinned_issuer]
    assert f'resource_metadata="{pinned_issuer}/' in challenge
    assert FORGED_HOST not in challenge


def test_pagination_links_ignore_a_forged_host(client_for, reader, pinned_issuer):
    """`next` links of the API are absolute URLs on the issuer's origin."""
    BookFactory.create_batch(3, author=AuthorFactory())
    response = client_for(reader).get(
        "/api/v1/books/", {"page_size": 1}, HTTP_HOST=FORGED_HOST
    )

    assert response.status_code == 200, response.content
    assert response.json()["next"].startswith(pinned_issuer + "/api/v1/books/")


def test_device_verification_uri_ignores_a_forged_host(client, pinned_issuer, db):
    """RFC 8628 §3.2 `verification_uri` points users at the issuer, not the Host."""
    from tests.factories import ApplicationFactory

    app = ApplicationFactory(
        client_type="public",
        authorization_grant_type="urn:ietf:params:oauth:grant-type:device_code",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    response = form_post(
        client,
        reverse("oauth2_provider:device-authorization"),
        {"client_id": app.client_id, "scope": "books:read"},
        HTTP_HOST=FORGED_HOST,
    )

    assert response.status_code == 200, response.content
    body = json_of(response)
    assert body["verification_uri"] == f"{pinned_issuer}/o/device/"
    assert body["verification_uri_complete"].startswith(pinned_issuer + "/")
