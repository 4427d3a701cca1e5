"""Token introspection (RFC 7662) for resource servers holding `introspection`."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from tests.conftest import basic_auth
from tests.factories import AccessTokenFactory
from tests.oauth_server.flows import form_post, json_of


def introspect(client, caller, token, **headers):
    return form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {"token": token},
        auth=(caller.client_id, caller.cleartext_secret),
        **headers,
    )


def test_active_token_is_described(client, introspector, access_token):
    """An introspecting client learns scope, client, subject, expiry and issuer."""
    response = introspect(client, introspector, access_token.cleartext)

    assert response.status_code == 200
    body = json_of(response)
    assert body["active"] is True
    assert body["scope"] == "books:read"
    assert body["client_id"] == access_token.application.client_id
    assert body["sub"] == str(access_token.user.pk)
    assert body["username"] == "alice"
    assert body["token_type"] == "Bearer"
    assert body["iss"] == "http://testserver"
    assert body["exp"] > body["iat"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("kind", ["unknown", "expired"])
def test_inactive_tokens_are_just_inactive(client, introspector, user, web_app, kind):
    """Unknown and expired tokens answer {"active": false} and nothing else."""
    from datetime import timedelta

    from django.utils import timezone

    value = "unknown-token"
    if kind == "expired":
        value = AccessTokenFactory(
            user=user,
            application=web_app,
            expires=timezone.now() - timedelta(seconds=1),
        ).cleartext

    response = introspect(client, introspector, value)

    assert json_of(response) == {"active": False}


def test_client_without_introspection_scope_is_refused(
    client, machine_app, access_token
):
    """A client not allowed `introspection` gets 401 invalid_client."""
    response = introspect(client, machine_app, access_token.cleartext)

    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_bearer_token_with_introspection_scope_may_introspect(
    client, introspector, access_token
):
    """A resource server may also present its own token carrying `introspection`."""
    own = AccessTokenFactory(user=None, application=introspector, scope="introspection")

    response = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {"token": access_token.cleartext},
        HTTP_AUTHORIZATION=f"Bearer {own.cleartext}",
    )

    assert json_of(response)["active"] is True


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Basic !!!"},
        {"HTTP_AUTHORIZATION": basic_auth("x", "y")},
    ],
)
def test_unauthenticated_callers_get_401(client, access_token, headers):
    """No or bad credentials: 401 invalid_client, no token data."""
    response = client.post(
        reverse("oauth2_provider:introspect"),
        f"token={access_token.cleartext}",
        content_type="application/x-www-form-urlencoded",
        **headers,
    )

    assert response.status_code == 401
    body = json_of(response)
    assert body["error"] == "invalid_client"
    assert body["error_description"]
    assert "active" not in body
    assert response["WWW-Authenticate"] == 'Basic realm="Bookshelf", charset="UTF-8"'
    assert response["Cache-Control"] == "no-store"


def test_refusal_says_which_client_may_introspect(client, machine_app, access_token):
    """An authenticated client without the scope learns what it lacks."""
    response = introspect(client, machine_app, access_token.cleartext)

    assert json_of(response) == {
        "error": "invalid_client",
        "error_description": "Authenticate as a client allowed the introspection scope.",
    }


def test_client_credentials_in_the_body_authenticate(
    client, introspector, access_token
):
    """RFC 6749 §2.3.1 also allows client_id and client_secret in the form body."""
    response = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {
            "token": access_token.cleartext,
            "client_id": introspector.client_id,
            "client_secret": introspector.cleartext_secret,
        },
    )

    assert (response.status_code, json_of(response)["active"]) == (200, True)


def test_client_credentials_in_the_url_do_not_authenticate(
    client, introspector, access_token
):
    """Parameters are the form body's (RFC 7662 §2.1): a secret in the URL counts
    for nothing, as at the token and revocation endpoints."""
    url = (
        reverse("oauth2_provider:introspect")
        + "?"
        + urlencode(
            {
                "client_id": introspector.client_id,
                "client_secret": introspector.cleartext_secret,
            }
        )
    )

    response = form_post(client, url, {"token": access_token.cleartext})

    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"


def test_missing_token_parameter_is_400(client, introspector):
    """No token: invalid_request, saying what is missing, never stored."""
    response = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {},
        auth=(introspector.client_id, introspector.cleartext_secret),
    )

    assert response.status_code == 400
    assert json_of(response) == {
        "error": "invalid_request",
        "error_description": "The token parameter is missing.",
    }
    assert response["Cache-Control"] == "no-store"


def test_get_is_not_allowed(client, introspector, access_token):
    """Tokens never travel in URLs: introspection is POST only."""
    response = client.get(
        reverse("oauth2_provider:introspect"),
        {"token": access_token.cleartext},
        HTTP_AUTHORIZATION=basic_auth(
            introspector.client_id, introspector.cleartext_secret
        ),
    )

    assert response.status_code == 405


def test_refresh_tokens_can_be_introspected(client, introspector, user, web_app):
    """A live refresh token is reported active with its scope."""
    from oauth2_provider.models import get_refresh_token_model, set_token_value

    access = AccessTokenFactory(user=user, application=web_app, scope="books:read")
    refresh = get_refresh_token_model()(
        user=user, application=web_app, access_token=access
    )
    set_token_value(refresh, "a-refresh-token-value")
    refresh.save()

    body = json_of(introspect(client, introspector, "a-refresh-token-value"))

    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert body["scope"] == "books:read"


def test_introspection_costs_two_queries(
    settings, client, introspector, access_token, django_assert_num_queries
):
    """Without the cache, one query authenticates the caller, one finds the token
    (selectors.live_token); with it (tests/security/test_client_cache.py), none."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 0}
    with django_assert_num_queries(2):
        response = introspect(client, introspector, access_token.cleartext)

    assert json_of(response)["active"] is True
