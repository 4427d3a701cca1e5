"""Remembered consent and the connected-applications page.

A user who allowed an application some scopes is not asked again for the same or
fewer; asking for more shows only what is new; prompt=consent always asks;
"Remove access" forgets the consent and revokes every token and code in one step.
"""

import pytest
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from oauth_server import personal_tokens, services
from oauth_server.models import Consent
from tests.factories import AccessTokenFactory, ApplicationFactory, UserFactory
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    exchange_code,
    json_of,
    query_of,
)

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()
CALLBACK = "https://client.example/callback"
CONNECTED = reverse("oauth2_provider:connected-apps")


def code_request(app, scope: str = "openid books:read") -> CodeRequest:
    return CodeRequest(client_id=app.client_id, redirect_uri=CALLBACK, scope=scope)


def remove_url(app) -> str:
    return reverse("oauth2_provider:connected-app-remove", args=[app.pk])


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def tokens_for(client, app, scope: str = "openid books:read") -> dict:
    """Allow on the consent page, exchange the code: the token response."""
    request = code_request(app, scope)
    code = authorize(client, request)["code"]
    response = exchange_code(
        client, request, code, auth=(app.client_id, app.cleartext_secret)
    )
    assert response.status_code == 200, response.content
    return json_of(response)


def test_allowing_remembers_the_scopes(signed_in, user, web_app):
    authorize(signed_in, code_request(web_app, "openid books:read"))

    consent = Consent.objects.get(user=user, application=web_app)
    assert consent.scope_list == ["openid", "books:read"]


@pytest.mark.parametrize("scope", ["openid books:read", "books:read", "openid"])
def test_same_or_fewer_scopes_skip_the_page(signed_in, web_app, scope):
    """The second request comes straight back with a code."""
    authorize(signed_in, code_request(web_app, "openid books:read"))

    response = signed_in.get(code_request(web_app, scope).url())

    assert response.status_code == 302
    params = query_of(response["Location"])
    assert response["Location"].startswith(CALLBACK)
    assert params["code"]
    assert Grant.objects.get(code=params["code"]).scope == scope


def test_more_scopes_ask_only_for_what_is_new(signed_in, user, web_app):
    authorize(signed_in, code_request(web_app, "openid books:read"))

    page = signed_in.get(code_request(web_app, "openid books:read books:write").url())

    assert page.status_code == 200
    assert [item["name"] for item in page.context["scope_items"]] == ["books:write"]
    assert [item["name"] for item in page.context["granted_items"]] == [
        "openid",
        "books:read",
    ]
    assert 'id="already-granted"' in page.content.decode()
    # Allowing the larger request adds to what is remembered.
    authorize(signed_in, code_request(web_app, "openid books:read books:write"))
    consent = Consent.objects.get(user=user, application=web_app)
    assert set(consent.scope_list) == {"openid", "books:read", "books:write"}


def test_prompt_consent_always_asks(signed_in, web_app):
    authorize(signed_in, code_request(web_app))

    page = signed_in.get(code_request(web_app).url(prompt="consent"))

    assert page.status_code == 200
    assert b"authorizationForm" in page.content


def test_denying_remembers_nothing(signed_in, user, web_app):
    authorize(signed_in, code_request(web_app), allow=False)

    assert not Consent.objects.filter(user=user).exists()
    assert signed_in.get(code_request(web_app).url()).status_code == 200


def test_consent_is_per_user_and_application(client, user, web_app):
    """Another user, or another application, is asked."""
    other_app = ApplicationFactory(name="Other app")
    services.consent_remember(user=user, application=web_app, scopes=["openid"])
    client.force_login(UserFactory(username="bob"))

    assert client.get(code_request(web_app, "openid").url()).status_code == 200
    client.force_login(user)
    assert client.get(code_request(other_app, "openid").url()).status_code == 200


def test_connected_apps_list_one_entry_per_application(
    signed_in, user, web_app, django_assert_max_num_queries
):
    """Eighteen sign-ins are one entry; personal tokens have their own page."""
    other = ApplicationFactory(name="Second app")
    services.consent_remember(user=user, application=web_app, scopes=["books:read"])
    for _ in range(18):
        AccessTokenFactory(user=user, application=web_app, scope="books:read")
    AccessTokenFactory(user=user, application=other, scope="books:write")
    personal_tokens.personal_token_create(user=user, name="script", scope="books:read")
    AccessTokenFactory(user=UserFactory(username="carol"), application=web_app)

    # session, user, 4 reads, whether the user is a developer (the nav)
    with django_assert_max_num_queries(9):
        page = signed_in.get(CONNECTED)

    entries = page.context["connected"]
    assert sorted(entry.application.name for entry in entries) == [
        "Second app",
        "Web app",
    ]
    html = page.content.decode()
    assert html.count('class="connected"') == 2
    assert "Read the catalogue" in html or 'data-scope="books:read"' in html
    assert remove_url(web_app) in html
    assert {entry.application.name: entry.live_tokens for entry in entries} == {
        "Web app": 18,
        "Second app": 1,
    }


def test_remove_access_revokes_everything_in_one_step(
    client, reader, web_app, api_client_for
):
    """Consent, access and refresh tokens, unused codes: all gone; the API says 401."""
    user, signed_in = reader, client
    client.force_login(reader)
    tokens = tokens_for(signed_in, web_app)
    unused_code = authorize(signed_in, code_request(web_app))["code"]
    bystander = AccessTokenFactory(
        user=UserFactory(username="dave"), application=web_app
    )
    other_app = AccessTokenFactory(user=user, application=ApplicationFactory())
    api = api_client_for(tokens["access_token"])
    assert api.get("/api/v1/books/").status_code == 200

    confirm = signed_in.get(remove_url(web_app))
    response = signed_in.post(remove_url(web_app))

    assert confirm.status_code == 200
    assert b"Remove access" in confirm.content
    assert CONNECTED.encode() in confirm.content  # Cancel goes back to the list
    assert response.status_code == 302
    assert response["Location"] == CONNECTED
    assert not Consent.objects.filter(user=user, application=web_app).exists()
    assert not AccessToken.objects.filter(user=user, application=web_app).exists()
    assert not RefreshToken.objects.filter(user=user, application=web_app).exists()
    assert not Grant.objects.filter(code=unused_code).exists()
    assert api.get("/api/v1/books/").status_code == 401
    assert AccessToken.objects.filter(pk__in=[bystander.pk, other_app.pk]).count() == 2
    # The next sign-in asks again.
    assert signed_in.get(code_request(web_app).url()).status_code == 200
    assert "no longer has access" in signed_in.get(CONNECTED).content.decode()


def test_refresh_token_is_dead_after_removal(signed_in, user, web_app):
    tokens = tokens_for(signed_in, web_app)
    signed_in.post(remove_url(web_app))

    refreshed = signed_in.post(
        reverse("oauth2_provider:token"),
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=_basic(web_app),
    )

    assert refreshed.status_code == 400
    assert json_of(refreshed)["error"] == "invalid_grant"


def _basic(app) -> str:
    from tests.conftest import basic_auth

    return basic_auth(app.client_id, app.cleartext_secret)


def test_removing_needs_the_csrf_token(user, web_app):
    services.consent_remember(user=user, application=web_app, scopes=["openid"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(remove_url(web_app))

    assert response.status_code == 403
    assert Consent.objects.filter(user=user, application=web_app).exists()


def test_an_application_without_access_is_not_found(signed_in, web_app):
    assert signed_in.get(remove_url(web_app)).status_code == 404
    assert signed_in.post(remove_url(web_app)).status_code == 404


def test_users_cannot_remove_each_others_applications(client, user, web_app):
    services.consent_remember(user=user, application=web_app, scopes=["openid"])
    token = AccessTokenFactory(user=user, application=web_app)
    client.force_login(UserFactory(username="mallory"))

    response = client.post(remove_url(web_app))

    assert response.status_code == 404
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_pages_need_a_signed_in_user(client, web_app):
    for url in (CONNECTED, remove_url(web_app)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
