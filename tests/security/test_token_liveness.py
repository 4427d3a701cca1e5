"""A token is live only while everything behind it is (RFC 7662 §2.2, RFC 6750 §3.1).

Every endpoint that honours a token asks one function (oauth_server.tokens): the API,
userinfo, introspection and the refresh grant agree for each reason a token dies.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from tests.oauth_server.flows import form_post, json_of, sign_in, token_request


def kill_by_user_deactivated(tokens, user, app) -> None:
    user.is_active = False
    user.save()


def kill_by_application_deactivated_in_admin_form(tokens, user, app) -> None:
    # What the admin's change form does: the flag only, no service, no revocation.
    app.is_active = False
    app.save()


def kill_by_revocation(tokens, user, app) -> None:
    get_refresh_token_model().objects.get().revoke()


def kill_by_expiry(tokens, user, app) -> None:
    # The refresh token dies its lifetime after its access token expires.
    get_access_token_model().objects.update(expires=timezone.now() - timedelta(days=31))


REASONS = [
    kill_by_user_deactivated,
    kill_by_application_deactivated_in_admin_form,
    kill_by_revocation,
    kill_by_expiry,
]


@pytest.fixture
def tokens(client, reader, web_app):
    """Tokens of a catalogue reader, so the API has something to refuse."""
    return sign_in(client, reader, web_app, scope="openid profile books:read")


def introspect(client, introspector, value: str) -> dict:
    response = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {"token": value},
        auth=(introspector.client_id, introspector.cleartext_secret),
    )
    assert response.status_code == 200, response.content
    return json_of(response)


def test_live_tokens_work_everywhere(client, api_client_for, introspector, tokens):
    """The baseline: before anything happens, every check says live."""
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    assert api_client_for(access).get("/api/v1/books/").status_code == 200
    assert api_client_for(access).get("/o/userinfo/").status_code == 200
    assert introspect(client, introspector, access)["active"] is True
    assert introspect(client, introspector, refresh)["active"] is True


@pytest.mark.parametrize("kill", REASONS, ids=lambda f: f.__name__[len("kill_by_") :])
def test_dead_token_is_dead_everywhere(
    client, api_client_for, introspector, reader, web_app, tokens, kill
):
    """API, userinfo, introspection (access and refresh) and the refresh grant all
    refuse a token whose user or application is inactive, or that was revoked or
    expired."""
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    kill(tokens, reader, web_app)

    api = api_client_for(access).get("/api/v1/books/")
    userinfo = api_client_for(access).get("/o/userinfo/")
    refreshed = token_request(
        client,
        {"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )

    assert api.status_code == 401
    assert 'error="invalid_token"' in api["WWW-Authenticate"]
    assert userinfo.status_code == 401
    assert introspect(client, introspector, access) == {"active": False}
    assert introspect(client, introspector, refresh) == {"active": False}
    assert refreshed.status_code in (400, 401)
    assert json_of(refreshed)["error"] in ("invalid_grant", "invalid_client")


def test_deactivated_user_cannot_redeem_a_code(client, user, web_app):
    """A code granted by a user deactivated before the exchange gives no tokens."""
    from tests.oauth_server.flows import CodeRequest, authorize, exchange_code

    client.force_login(user)
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri="https://client.example/callback"
    )
    code = authorize(client, request)["code"]
    user.is_active = False
    user.save()

    response = exchange_code(
        client, request, code, auth=(web_app.client_id, web_app.cleartext_secret)
    )

    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_grant"
