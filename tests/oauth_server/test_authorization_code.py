"""Authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636, RFC 9207)."""

import json

import pytest
from django.urls import reverse
from jwcrypto import jwk, jwt

from oauth_server import services
from tests.factories import ApplicationFactory
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    exchange_code,
    json_of,
    query_of,
    sign_in,
    token_request,
)

ISSUER = "http://testserver"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def code_request(web_app):
    return CodeRequest(
        client_id=web_app.client_id, redirect_uri="https://client.example/callback"
    )


def verify_id_token(client, id_token: str, *, audience: str) -> dict:
    keys = jwk.JWKSet.from_json(
        client.get(reverse("oauth2_provider:jwks-info")).content
    )
    token = jwt.JWT(jwt=id_token, key=keys, algs=["RS256"])
    claims = json.loads(token.claims)
    assert claims["iss"] == ISSUER
    assert claims["aud"] == audience
    return claims


def test_code_flow_issues_tokens_and_signed_id_token(signed_in, web_app, code_request):
    """Consent, code, and token exchange give access, refresh and a valid ID token."""
    params = authorize(signed_in, code_request)
    assert params["state"] == code_request.state
    assert params["iss"] == ISSUER

    response = exchange_code(
        signed_in,
        code_request,
        params["code"],
        auth=(web_app.client_id, web_app.cleartext_secret),
    )

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = json_of(response)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"openid", "profile", "books:read"}
    assert body["refresh_token"]
    claims = verify_id_token(signed_in, body["id_token"], audience=web_app.client_id)
    assert claims["nonce"] == code_request.nonce


def test_consent_page_names_application_and_scopes_in_words(
    signed_in, web_app, code_request
):
    """The consent page shows the app and each requested scope's description."""
    web_app.logo_url = "https://client.example/logo.png"
    web_app.save()

    page = signed_in.get(code_request.url())

    text = page.content.decode()
    assert web_app.name in text
    assert "https://client.example/logo.png" in text
    assert "See your name and username" in text
    assert "Read the book catalogue and reviews" in text
    assert "books:write" not in text


def test_deny_returns_access_denied_with_state_and_iss(signed_in, code_request):
    """Deny sends the user back with error=access_denied, the state and iss."""
    params = authorize(signed_in, code_request, allow=False)

    assert params == {
        "error": "access_denied",
        "error_description": "The user or the server denied the request.",
        "state": code_request.state,
        "iss": ISSUER,
    }


def test_anonymous_user_is_sent_to_login_first(client, code_request):
    """A valid request from a signed-out browser goes to the login page."""
    response = client.get(code_request.url())

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("signed_in_user", [True, False])
@pytest.mark.parametrize(
    ("override", "description"),
    [
        ({"client_id": "no-such-client"}, "Invalid client_id parameter value."),
        ({"client_id": None}, "Missing client_id parameter."),
        (
            {"redirect_uri": "https://evil.example/callback"},
            "Mismatching redirect URI.",
        ),
        (
            {"redirect_uri": "https://client.example/callback/other"},
            "Mismatching redirect URI.",
        ),
        (
            {"redirect_uri": "https://client.example/callback?x=1"},
            "Mismatching redirect URI.",
        ),
        ({"redirect_uri": "javascript:alert(1)"}, "Mismatching redirect URI."),
    ],
)
def test_bad_client_or_redirect_uri_shows_error_page(
    client, user, code_request, override, description, signed_in_user
):
    """Unknown clients and unregistered redirect URIs get a page, never a redirect."""
    if signed_in_user:
        client.force_login(user)

    response = client.get(code_request.url(**override))

    assert response.status_code in (400, 401)
    page = response.content.decode()
    assert "cannot go on" in page
    # RFC 6749 §4.1.2.1: the error, explained, for the developer who sent it.
    assert f"<strong>invalid_request</strong>: {description}" in page
    assert not response.has_header("Location")


def test_inactive_application_is_an_unknown_client(signed_in, web_app, code_request):
    """A deactivated application cannot start a sign-in."""
    web_app.is_active = False
    web_app.save()

    response = signed_in.get(code_request.url())

    assert response.status_code == 400
    assert not response.has_header("Location")


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": "S512"}, "invalid_request"),
        ({"scope": "openid books:read introspection"}, "invalid_scope"),
        ({"scope": "books:read no-such-scope"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"response_type": "garbage"}, "unsupported_response_type"),
    ],
)
def test_bad_request_from_valid_client_redirects_with_error(
    signed_in, code_request, override, error
):
    """Errors after the client is known go back to it, with state and iss (RFC 9207)."""
    response = signed_in.get(code_request.url(**override))

    assert response.status_code == 302
    params = query_of(response["Location"])
    assert response["Location"].startswith("https://client.example/callback?")
    assert params["error"] == error
    assert params["state"] == code_request.state
    assert params["iss"] == ISSUER


def test_scope_outside_application_allowance_is_refused(signed_in, db):
    """An app allowed books:read only cannot get books:write."""
    app = ApplicationFactory(allowed_scopes="books:read")
    request = CodeRequest(
        client_id=app.client_id,
        redirect_uri="https://client.example/callback",
        scope="books:read books:write",
    )

    response = signed_in.get(request.url())

    assert query_of(response["Location"])["error"] == "invalid_scope"


@pytest.fixture
def issued_code(signed_in, code_request):
    return authorize(signed_in, code_request)["code"]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"code_verifier": "x" * 64}, 400, "invalid_grant"),
        ({"code_verifier": None}, 400, "invalid_request"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
        ({"redirect_uri": "https://client.example/other"}, 400, "invalid_request"),
        ({"secret": "wrong-secret"}, 401, "invalid_client"),
        ({"client_id": "someone-else", "secret": "x"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "urn:made:up"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_exchange_refuses_bad_requests(
    signed_in, web_app, code_request, issued_code, change, status, error
):
    """Wrong verifier, code, redirect URI, secret or grant type get RFC 6749 §5.2 errors."""
    change = dict(change)
    secret = change.pop("secret", web_app.cleartext_secret)
    client_id = change.pop("client_id", web_app.client_id)
    code = change.pop("code", issued_code)

    response = exchange_code(
        signed_in, code_request, code, auth=(client_id, secret), **change
    )

    assert response.status_code == status, response.content
    assert json_of(response)["error"] == error
    assert response["Cache-Control"] == "no-store"
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Basic")


def test_code_cannot_be_replayed(
    signed_in, web_app, code_request, issued_code, api_client_for
):
    """A code works once; a replay is invalid_grant and revokes what it produced."""
    auth = (web_app.client_id, web_app.cleartext_secret)
    first = json_of(exchange_code(signed_in, code_request, issued_code, auth=auth))
    userinfo = reverse("oauth2_provider:user-info")
    assert api_client_for(first["access_token"]).get(userinfo).status_code == 200

    replay = exchange_code(signed_in, code_request, issued_code, auth=auth)

    assert replay.status_code == 400
    assert json_of(replay)["error"] == "invalid_grant"
    assert api_client_for(first["access_token"]).get(userinfo).status_code == 401
    refreshed = token_request(
        signed_in,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
    )
    assert json_of(refreshed)["error"] == "invalid_grant"


def test_code_expires_quickly(issued_code):
    """Codes live 60 seconds."""
    from oauth2_provider.models import get_grant_model

    grant = get_grant_model().objects.get()
    lifetime = (grant.expires - grant.created).total_seconds()
    assert 55 <= lifetime <= 60


def test_public_client_exchanges_code_with_pkce_only(client, user, public_app):
    """A public client authenticates with PKCE alone (client_id in the body)."""
    client.force_login(user)
    request = CodeRequest(
        client_id=public_app.client_id,
        redirect_uri="http://127.0.0.1:9999/callback",
        scope="openid books:read",
    )
    code = authorize(client, request)["code"]

    response = exchange_code(client, request, code)

    assert response.status_code == 200, response.content
    assert json_of(response)["id_token"]


def test_code_flow_query_budget(client, user, web_app, django_assert_max_num_queries):
    """Authorization code + PKCE with consent on record (prompt=none), then the code
    exchange: within the measured budget (37 before issue 11: the consent and the
    client read twice, the grant read back after saving and before deleting, a
    savepoint around the tokens)."""
    services.consent_remember(
        user=user, application=web_app, scopes=["openid", "books:read"]
    )
    client.force_login(user)
    for _ in range(3):  # earlier sessions: their tokens and codes are not read
        sign_in(client, user, web_app, scope="openid books:read")
    request = CodeRequest(
        client_id=web_app.client_id,
        redirect_uri="https://client.example/callback",
        scope="openid books:read",
    )

    with django_assert_max_num_queries(11):
        page = client.get(request.url(prompt="none"))
    assert page.status_code == 302, page.content[:300]
    code = query_of(page["Location"])["code"]
    with django_assert_max_num_queries(19):
        response = exchange_code(
            client, request, code, auth=(web_app.client_id, web_app.cleartext_secret)
        )

    assert response.status_code == 200, response.content
    assert {"access_token", "refresh_token", "id_token"} <= set(json_of(response))
