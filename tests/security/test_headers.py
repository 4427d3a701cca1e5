"""Response headers: a strict Content-Security-Policy everywhere, `no-store` on
every response that carries or answers for a credential.

The policy's effect on real pages (nothing blocked, everything rendered, the
consent redirect allowed) is proven in Chromium by tests/e2e/test_csp_in_browser.py.
"""

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from tests.conftest import basic_auth
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    exchange_code,
    form_post,
    token_request,
)

CSP = "Content-Security-Policy"
CLIENT_ORIGIN = "https://client.example"


def policy(response) -> dict[str, list[str]]:
    """The response's CSP as {directive: [sources]}."""
    directives = {}
    for part in response[CSP].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_no_store(response) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accounts/login/",
        "/o/authorize/?response_type=code&client_id=ghost",
        "/o/device/",
        "/admin/login/",
        "/api/docs/",
        "/api/redoc/",
        "/api/docs/oauth2-redirect.html",
        "/.well-known/openid-configuration",
        "/o/userinfo/",
        "/api/v1/books/",
    ],
)
def test_every_response_has_a_strict_content_security_policy(client, db, url):
    """default-src 'self'; scripts only from here or by nonce; no plugins, no
    <base>, never framed; forms post here (CSP Level 3)."""
    response = client.get(url, follow=True)

    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    scripts = csp["script-src"]
    assert scripts[0] == "'self'"
    assert all(s.startswith("'nonce-") for s in scripts[1:]), scripts
    assert "'unsafe-inline'" not in csp.get("style-src-elem", [])


def test_inline_scripts_carry_the_response_nonce(client, db):
    """Swagger UI's inline start-up script runs by the nonce of its own response."""
    response = client.get(reverse("api-docs"))

    nonces = [s for s in policy(response)["script-src"] if s.startswith("'nonce-")]
    assert len(nonces) == 1
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    assert inline
    assert all(f'nonce="{nonces[0][7:-1]}"' in attrs for attrs in inline)
    assert client.get(reverse("api-docs"))[CSP] != response[CSP]  # fresh per response


def test_redoc_loads_nothing_from_other_origins(client, db):
    """ReDoc's page names no Google Fonts; its bundle no Redocly CDN image."""
    page = client.get(reverse("api-redoc")).content.decode()
    bundle = client.get(reverse("api-redoc-bundle")).content.decode()

    assert "fonts.googleapis.com" not in page
    assert "cdn.redoc.ly" not in bundle
    assert reverse("api-redoc-bundle") in page


def test_consent_page_may_post_on_to_its_registered_client_only(client, user, web_app):
    """The consent decision redirects to the client: its origin, nothing else, is
    added to form-action (Chromium enforces form-action on redirects)."""
    client.force_login(user)
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri=f"{CLIENT_ORIGIN}/callback"
    )

    consent = client.get(request.url())
    wrong = client.get(request.url(redirect_uri="https://evil.example/callback"))

    assert consent.status_code == 200
    assert policy(consent)["form-action"] == ["'self'", CLIENT_ORIGIN]
    assert wrong.status_code == 400
    assert policy(wrong)["form-action"] == ["'self'"]


def test_login_page_may_go_on_to_the_client_of_its_authorization_request(
    client, web_app, db
):
    """Signing in may redirect through /o/authorize/ to a client that skips consent;
    only a redirect URI registered for that client is allowed."""
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri=f"{CLIENT_ORIGIN}/callback"
    )
    forged = request.url(redirect_uri="https://evil.example/callback")

    page = client.get(reverse("login"), {"next": request.url()})
    forged_page = client.get(reverse("login"), {"next": forged})

    assert policy(page)["form-action"] == ["'self'", CLIENT_ORIGIN]
    assert policy(forged_page)["form-action"] == ["'self'"]


def test_logout_confirmation_may_return_to_the_registered_client(client, user, web_app):
    """RP-initiated logout goes on to the registered post-logout URI's origin."""
    client.force_login(user)
    query = {
        "client_id": web_app.client_id,
        "post_logout_redirect_uri": f"{CLIENT_ORIGIN}/",
    }

    page = client.get(
        f"{reverse('oauth2_provider:rp-initiated-logout')}?{urlencode(query)}"
    )

    assert page.status_code == 200
    assert policy(page)["form-action"] == ["'self'", CLIENT_ORIGIN]


# --- Cache-Control: no-store ----------------------------------------------------------


@pytest.fixture
def tokens(client, user, web_app) -> dict:
    client.force_login(user)
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri=f"{CLIENT_ORIGIN}/callback"
    )
    code = authorize(client, request)["code"]
    response = exchange_code(
        client, request, code, auth=(web_app.client_id, web_app.cleartext_secret)
    )
    assert response.status_code == 200
    assert_no_store(response)  # oauthlib's own headers on a success
    return response.json()


def test_token_errors_are_not_cached(client, web_app, db):
    """RFC 6749 §5.1-5.2: error responses of the token endpoint are no-store too."""
    auth = (web_app.client_id, web_app.cleartext_secret)
    responses = [
        token_request(
            client, {"grant_type": "authorization_code", "code": "nope"}, auth=auth
        ),
        token_request(
            client,
            {"grant_type": "refresh_token", "refresh_token": "x"},
            auth=(web_app.client_id, "wrong"),
        ),
        token_request(client, {"grant_type": "password"}, auth=auth),
        token_request(
            client,
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": "x",
                "client_id": "y",
            },
        ),
        client.get(reverse("oauth2_provider:token")),
    ]

    # The device poll names an unknown client: 401 invalid_client.
    assert [r.status_code for r in responses] == [400, 401, 400, 401, 405]
    for response in responses:
        assert_no_store(response)


def test_refreshed_tokens_are_not_cached(client, web_app, tokens):
    """RFC 6749 §5.1 on the refresh grant's response."""
    response = token_request(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )

    assert response.status_code == 200
    assert_no_store(response)


def test_userinfo_is_not_cached(client, tokens):
    """OIDC Core §5.3.2: the claims, and the refusal of a bad token, are no-store."""
    good = client.get(
        reverse("oauth2_provider:user-info"),
        HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}",
    )
    bad = client.get(
        reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION="Bearer nope"
    )

    assert good.status_code == 200
    assert bad.status_code == 401
    assert_no_store(good)
    assert_no_store(bad)


def test_introspection_is_not_cached(client, introspector, access_token):
    """RFC 7662 §4: answers, refusals and bad requests are no-store."""
    url = reverse("oauth2_provider:introspect")
    auth = basic_auth(introspector.client_id, introspector.cleartext_secret)
    responses = [
        form_post(
            client, url, {"token": access_token.cleartext}, HTTP_AUTHORIZATION=auth
        ),
        form_post(client, url, {"token": "unknown"}, HTTP_AUTHORIZATION=auth),
        form_post(client, url, {}, HTTP_AUTHORIZATION=auth),
        form_post(client, url, {"token": access_token.cleartext}),
    ]

    assert [r.status_code for r in responses] == [200, 200, 400, 401]
    assert responses[0].json()["active"] is True
    for response in responses:
        assert_no_store(response)


def test_new_personal_token_is_not_cached(api_client, reader):
    """The one response that shows a personal access token is no-store."""
    api_client.force_login(reader)
    response = api_client.post(
        reverse("api:personal-token-list", kwargs={"version": "v1"}),
        {"name": "laptop", "scope": "books:read"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["token"]
    assert_no_store(response)
