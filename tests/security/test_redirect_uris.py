"""Redirect URI rules (RFC 9700 §2.1, §4.1; RFC 8252 §7.3), in the profile under test.

Production refuses every http redirect URI, loopback included; development allows
http on loopback hosts only, so native apps and `make run` work.
"""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import ApplicationFactory
from tests.oauth_server.flows import CodeRequest
from tests.plugin_env import PROFILE

PRODUCTION = PROFILE == "production"


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("https://client.example/cb", True),
        ("https://client.example/cb?x=1", True),
        ("http://client.example/cb", False),
        ("http://127.0.0.1:9000/cb", not PRODUCTION),
        ("http://[::1]:9000/cb", not PRODUCTION),
        ("http://localhost/cb", not PRODUCTION),
        ("https://client.example/cb#fragment", False),
        ("javascript://client.example/%0aalert(1)", False),
        ("data:text/html,hi", False),
    ],
)
def test_registration_accepts_only_safe_redirect_uris(db, uri, allowed):
    """An application can only be registered with redirect URIs the profile allows."""
    if allowed:
        ApplicationFactory(redirect_uris=uri)
    else:
        with pytest.raises(ValidationError):
            ApplicationFactory(redirect_uris=uri)


@pytest.mark.parametrize(
    ("schemes", "allowed"), [(["https"], False), (["https", "http"], True)]
)
def test_http_loopback_follows_dots_allowed_schemes(
    db, oauth2_settings_override, schemes, allowed
):
    """Applications take their schemes from DOT's ALLOWED_REDIRECT_URI_SCHEMES, which
    config/settings.py derives from OAUTH_ALLOW_HTTP_LOOPBACK_REDIRECTS."""
    oauth2_settings_override(ALLOWED_REDIRECT_URI_SCHEMES=schemes)

    if allowed:
        ApplicationFactory(redirect_uris="http://127.0.0.1:9000/cb")
    else:
        with pytest.raises(ValidationError):
            ApplicationFactory(redirect_uris="http://127.0.0.1:9000/cb")


def test_authorization_redirects_only_to_the_exact_registered_uri(client, user, db):
    """A redirect URI that differs in any way is an error page, never a redirect."""
    app = ApplicationFactory(redirect_uris="https://client.example/cb")
    client.force_login(user)
    for uri in (
        "https://client.example/cb/",
        "https://client.example/cb?extra=1",
        "https://client.example/CB",
        "https://client.example.evil/cb",
        "https://client.example/cb/../other",
    ):
        request = CodeRequest(client_id=app.client_id, redirect_uri=uri)

        response = client.get(request.url())

        assert response.status_code == 400, uri
        assert "Location" not in response
