"""Refresh tokens: rotated on every use; a replay revokes the whole family."""

import pytest
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from tests.oauth_server.flows import (
    json_of,
    sign_in,
    token_request,
)


@pytest.fixture
def tokens(client, user, web_app):
    return sign_in(client, user, web_app)


def refresh(client, app, refresh_token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return token_request(client, data, auth=(app.client_id, app.cleartext_secret))


def test_refresh_rotates_the_refresh_token(client, web_app, tokens):
    """Each refresh returns a new access token and a new refresh token."""
    response = refresh(client, web_app, tokens["refresh_token"])

    assert response.status_code == 200, response.content
    body = json_of(response)
    assert body["access_token"] != tokens["access_token"]
    assert body["refresh_token"] != tokens["refresh_token"]


def test_refresh_can_narrow_but_not_widen_scope(client, web_app, tokens):
    """A refresh may ask for fewer scopes, never more (RFC 6749 §6)."""
    narrower = refresh(client, web_app, tokens["refresh_token"], scope="books:read")
    assert json_of(narrower)["scope"] == "books:read"

    wider = refresh(
        client, web_app, json_of(narrower)["refresh_token"], scope="books:write"
    )
    assert wider.status_code == 400
    assert json_of(wider)["error"] == "invalid_scope"


def test_reused_refresh_token_revokes_the_family(client, web_app, tokens):
    """Replaying a rotated refresh token fails and kills its successor too."""
    first = json_of(refresh(client, web_app, tokens["refresh_token"]))

    replay = refresh(client, web_app, tokens["refresh_token"])

    assert replay.status_code == 400
    assert json_of(replay)["error"] == "invalid_grant"
    successor = refresh(client, web_app, first["refresh_token"])
    assert successor.status_code == 400
    assert json_of(successor)["error"] == "invalid_grant"
    assert not get_refresh_token_model().objects.filter(revoked__isnull=True).exists()


def test_refresh_token_of_another_client_is_refused(client, web_app, tokens, db):
    """A refresh token only works for the client it was issued to."""
    from tests.factories import ApplicationFactory

    other = ApplicationFactory()
    response = refresh(client, other, tokens["refresh_token"])

    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_grant"


def test_tokens_are_stored_hashed(tokens):
    """Neither access nor refresh token values are in the database (RFC 9700 §4)."""
    access = get_access_token_model().objects.get()
    refresh_row = get_refresh_token_model().objects.get()
    assert access.token == ""
    assert refresh_row.token == ""
    assert tokens["access_token"] not in (
        access.token_checksum,
        refresh_row.token_checksum,
    )


def test_refresh_query_budget(
    settings, client, user, web_app, tokens, django_assert_max_num_queries
):
    """A refresh with rotation, reuse detection's lock, a new ID token and its
    audit event stays within its measured query budget (29 before issue 11's
    savepoint went; DOT's rotation and revocation account for most of it, and the
    old access token's delete cascades to personal tokens and token delegations).
    Without a shared cache, revoking the old access token also moves the bearer
    cache's epoch row, so that no process serves it from its own cache."""
    for _ in range(3):  # other sessions of the same user and client
        sign_in(client, user, web_app)

    with django_assert_max_num_queries(28 + (not settings.CACHE_SHARED)):
        response = refresh(client, web_app, tokens["refresh_token"])

    assert response.status_code == 200, response.content
    assert "id_token" in json_of(response)
