"""Token revocation (RFC 7009)."""

import pytest
from django.urls import reverse
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from tests.factories import AccessTokenFactory
from tests.oauth_server.flows import (
    form_post,
    json_of,
    sign_in,
    token_request,
)


def revoke(client, app, token, secret=None, **extra):
    auth = (app.client_id, secret or app.cleartext_secret)
    return form_post(
        client,
        reverse("oauth2_provider:revoke-token"),
        {"token": token, **extra},
        auth=auth,
    )


@pytest.fixture
def tokens(client, user, web_app):
    return sign_in(client, user, web_app)


def test_revoked_access_token_stops_working(client, web_app, tokens, api_client_for):
    """After revocation the access token is gone; userinfo refuses it."""
    response = revoke(
        client, web_app, tokens["access_token"], token_type_hint="access_token"
    )

    assert response.status_code == 200
    assert not get_access_token_model().objects.exists()
    userinfo = api_client_for(tokens["access_token"]).get(
        reverse("oauth2_provider:user-info")
    )
    assert userinfo.status_code == 401


def test_revoking_refresh_token_kills_it(client, web_app, tokens):
    """A revoked refresh token cannot be used any more."""
    assert revoke(client, web_app, tokens["refresh_token"]).status_code == 200

    response = token_request(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )

    assert response.status_code == 400
    assert get_refresh_token_model().objects.get().revoked is not None


def test_unknown_token_is_accepted_silently(client, web_app):
    """RFC 7009 §2.2: an invalid token is not an error."""
    assert revoke(client, web_app, "no-such-token").status_code == 200


def test_client_cannot_revoke_another_clients_token(client, user, web_app, machine_app):
    """Only the client a token was issued to can revoke it."""
    token = AccessTokenFactory(user=user, application=web_app)

    revoke(client, machine_app, token.cleartext)

    assert get_access_token_model().objects.filter(pk=token.pk).exists()


def test_wrong_secret_is_invalid_client(client, web_app, tokens):
    """Revocation requires client authentication for confidential clients."""
    response = revoke(client, web_app, tokens["access_token"], secret="wrong")

    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert get_access_token_model().objects.exists()
