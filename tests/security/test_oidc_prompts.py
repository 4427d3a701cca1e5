"""`prompt`, `max_age` and `auth_time` at the authorization endpoint (OIDC Core §3.1.2).

prompt=none never shows a page; prompt=login and max_age make the user sign in again;
prompt=consent always shows the consent page; the ID token's `auth_time` is when this
session's user signed in.
"""

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from jwcrypto import jwk, jwt

from oauth_server import auth_time, services
from oauth_server.views import AuthorizationView
from tests.factories import AccessTokenFactory, ApplicationFactory
from tests.oauth_server.flows import (
    CodeRequest,
    exchange_code,
    json_of,
    query_of,
    token_request,
)

CALLBACK = "https://client.example/callback"
OIDC_SCOPE = "openid profile books:read"


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Prompted", redirect_uris=CALLBACK)


@pytest.fixture
def first_party(db):
    return ApplicationFactory(
        name="First party", redirect_uris=CALLBACK, skip_authorization=True
    )


def code_request(app, scope: str = OIDC_SCOPE) -> CodeRequest:
    return CodeRequest(client_id=app.client_id, redirect_uri=CALLBACK, scope=scope)


def sign_in(client, user, *, seconds_ago: int | None = 0) -> int | None:
    """Sign `user` in, as if `seconds_ago` ago (None: a session with no sign-in time)."""
    client.force_login(user)
    session = client.session
    if seconds_ago is None:
        del session[auth_time.SESSION_KEY]
        signed_in_at = None
    else:
        signed_in_at = session[auth_time.SESSION_KEY] = auth_time.now() - seconds_ago
    session.save()
    return signed_in_at


def consent_given(user, app, scope: str = OIDC_SCOPE) -> None:
    """`user` allowed `app` these scopes before: consent on record."""
    services.consent_remember(user=user, application=app, scopes=scope.split())


def redirect_params(response) -> dict[str, str]:
    """The parameters of a redirect back to the client (and nowhere else)."""
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(CALLBACK + "?"), response["Location"]
    return query_of(response["Location"])


def assert_error(response, request: CodeRequest, error: str, issuer: str) -> None:
    params = redirect_params(response)
    assert params["error"] == error, params
    assert params["state"] == request.state
    assert params["iss"] == issuer
    assert "code" not in params


def id_token_claims(client, id_token: str, issuer: str, audience: str) -> dict:
    keys = jwk.JWKSet.from_json(
        client.get(reverse("oauth2_provider:jwks-info")).content
    )
    claims = json.loads(jwt.JWT(jwt=id_token, key=keys, algs=["RS256"]).claims)
    assert claims["iss"] == issuer
    assert claims["aud"] == audience
    return claims


def allow(client, consent_page) -> str:
    """Press Allow on a consent page; return the code."""
    form = {**consent_page.context["form"].initial, "allow": "Authorize"}
    response = client.post(
        reverse("oauth2_provider:authorize"),
        {k: v for k, v in form.items() if v is not None},
    )
    return redirect_params(response)["code"]


def exchange(client, app, request: CodeRequest, code: str) -> dict:
    response = exchange_code(
        client, request, code, auth=(app.client_id, app.cleartext_secret)
    )
    assert response.status_code == 200, response.content
    return json_of(response)


# --- prompt=none ------------------------------------------------------------------


SILENT_CASES = {
    # name: (signed in seconds ago, consent on record, max_age, expected)
    "anonymous": (None, "all", None, "login_required"),
    "signed_in_without_consent": (0, None, None, "consent_required"),
    "signed_in_with_consent": (0, "all", None, "code"),
    "consent_for_fewer_scopes": (0, "fewer", None, "consent_required"),
    "consent_removed": (0, "removed", None, "consent_required"),
    "consent_of_another_app": (0, "other-app", None, "consent_required"),
    "fresh_enough_for_max_age": (30, "all", "60", "code"),
    "stale_for_max_age": (120, "all", "60", "login_required"),
    "max_age_zero": (0, "all", "0", "login_required"),
    "session_without_sign_in_time": ("unknown", "all", None, "login_required"),
}


def set_up(client, user, app, scope: str, session, consent) -> None:
    if session == "unknown":
        sign_in(client, user, seconds_ago=None)
    elif session is not None:
        sign_in(client, user, seconds_ago=session)
    if consent == "all":
        consent_given(user, app, scope=scope)
    elif consent == "fewer":
        consent_given(user, app, scope="openid")
    elif consent == "removed":  # allowed, then removed under Connected applications
        consent_given(user, app, scope=scope)
        services.consent_withdraw(user=user, application=app)
    elif consent == "other-app":
        consent_given(user, ApplicationFactory(name="Other"), scope=scope)


@pytest.mark.parametrize("scope", [OIDC_SCOPE, "books:read"])
@pytest.mark.parametrize("case", list(SILENT_CASES))
def test_prompt_none_never_shows_a_page(client, user, app, issuer, case, scope):
    """prompt=none answers at once: a code, or login_ or consent_required (§3.1.2.6)."""
    session, consent, max_age, expected = SILENT_CASES[case]
    set_up(client, user, app, scope, session, consent)
    request = code_request(app, scope)

    response = client.get(request.url(prompt="none", max_age=max_age))

    if expected == "code":
        params = redirect_params(response)
        assert set(params) == {"code", "state", "iss"}
        assert params["state"] == request.state
        assert params["iss"] == issuer
        assert exchange(client, app, request, params["code"])["access_token"]
    else:
        assert_error(response, request, expected, issuer)


@pytest.mark.parametrize("signed_in", [True, False])
def test_prompt_none_for_first_party_app_returns_a_code(
    client, user, first_party, issuer, signed_in
):
    """An app registered to skip authorization gets a code silently, once signed in."""
    if signed_in:
        sign_in(client, user)
    request = code_request(first_party)

    response = client.get(request.url(prompt="none"))

    if signed_in:
        assert "code" in redirect_params(response)
    else:
        assert_error(response, request, "login_required", issuer)


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize(
    "override",
    [
        {"client_id": "no-such-client"},
        {"client_id": None},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": CALLBACK + "/other"},
    ],
)
def test_prompt_none_errors_never_go_to_unverified_redirect_uris(
    client, user, app, signed_in, override
):
    """Unknown client or unregistered redirect URI: error page, never a redirect.

    RFC 6749 §4.1.2.1; otherwise prompt=none would be an open redirector.
    """
    if signed_in:
        sign_in(client, user)

    response = client.get(code_request(app).url(prompt="none", **override))

    assert response.status_code in (400, 401)
    assert not response.has_header("Location")
    assert "cannot go on" in response.content.decode()


def test_interaction_the_page_cannot_do_without_is_interaction_required(
    client, user, app, issuer, monkeypatch
):
    """A silent approval that would still need the page is interaction_required.

    OIDC Core §3.1.2.6. Only login and consent need a person today; this is the
    answer for anything else, shown by a consent form that cannot be completed.
    """
    sign_in(client, user)
    consent_given(user, app)
    monkeypatch.setattr(AuthorizationView, "get_initial", lambda self: {})
    request = code_request(app)

    response = client.get(request.url(prompt="none"))

    assert_error(response, request, "interaction_required", issuer)


def test_silent_code_carries_the_session_sign_in_time(client, user, app, issuer):
    """A forged `session_auth_time` parameter cannot set the ID token's auth_time."""
    signed_in_at = sign_in(client, user, seconds_ago=300)
    consent_given(user, app)
    request = code_request(app)

    response = client.get(request.url(prompt="none", session_auth_time="1"))

    tokens = exchange(client, app, request, redirect_params(response)["code"])
    claims = id_token_claims(client, tokens["id_token"], issuer, app.client_id)
    assert claims["auth_time"] == signed_in_at


# --- invalid prompt and max_age ---------------------------------------------------


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize("scope", [OIDC_SCOPE, "books:read"])
@pytest.mark.parametrize(
    "params",
    [
        {"prompt": "none login"},
        {"prompt": "none consent"},
        {"prompt": "consent none"},
        {"prompt": "none select_account"},
        {"prompt": "create"},
        {"prompt": "None"},
        {"prompt": "login bogus"},
        {"prompt": "login\tconsent"},
        {"prompt": ["login", "consent"]},
        {"max_age": "-1"},
        {"max_age": "abc"},
        {"max_age": "1.5"},
        {"max_age": ""},
        {"max_age": " 5"},
        {"max_age": "+5"},
        {"max_age": "\uff15"},  # a fullwidth 5: int() would take it
        {"max_age": "1e3"},
        {"max_age": "9" * 5000},  # past Python's int() digit limit
        {"max_age": ["5", "6"]},
    ],
)
def test_malformed_prompt_or_max_age_is_invalid_request(
    client, user, app, issuer, signed_in, scope, params
):
    """Unknown prompt values, none with others, bad max_age: invalid_request.

    OIDC Core §3.1.2.1 (prompt, max_age), §3.1.2.6; never a 500 or a page.
    """
    if signed_in:
        sign_in(client, user)
    request = code_request(app, scope)

    response = client.get(
        reverse("oauth2_provider:authorize"), {**request.params(), **params}
    )

    assert_error(response, request, "invalid_request", issuer)


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize("prompt", ["select_account", "select_account consent"])
def test_select_account_is_refused(client, user, app, issuer, signed_in, prompt):
    """One account per session, nothing to select: account_selection_required.

    OIDC Core §3.1.2.1: a server that cannot obtain an account selection MUST return
    an error; discovery does not list select_account.
    """
    if signed_in:
        sign_in(client, user)
    request = code_request(app)

    response = client.get(request.url(prompt=prompt))

    assert_error(response, request, "account_selection_required", issuer)


@pytest.mark.parametrize(
    ("param", "error"),
    [
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
    ],
)
def test_request_objects_are_refused(client, user, app, issuer, param, error):
    """A request object would be ignored, its prompt and max_age with it (OIDC §6)."""
    sign_in(client, user)
    request = code_request(app)

    response = client.get(request.url(**{param: "eyJhbGciOiJub25lIn0.e30."}))

    assert_error(response, request, error, issuer)


# --- prompt=login, max_age ---------------------------------------------------------


def follow_login(client, response, user) -> tuple:
    """From a redirect to the login page: show it, sign in; return the next response."""
    assert response.status_code == 302
    login_page = client.get(response["Location"])
    assert login_page.status_code == 200, "the login form is shown"
    assert b'name="password"' in login_page.content
    back = client.post(
        reverse("login"),
        {
            "username": user.username,
            "password": "correct horse battery",
            "next": login_page.context["next"],
        },
    )
    assert back.status_code == 302
    return back, login_page


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize(
    "params",
    [
        {"prompt": "login"},
        {"prompt": "login consent"},
        {"max_age": "0"},
        {"prompt": "login", "max_age": "3600"},
    ],
)
def test_prompt_login_signs_in_again_then_goes_on(
    client, user, app, issuer, signed_in, params
):
    """prompt=login (or max_age=0) shows the login form, then the consent page, once.

    OIDC Core §3.1.2.1; the auth_time of the resulting ID token is the new sign-in.
    """
    before = sign_in(client, user, seconds_ago=600) if signed_in else None
    request = code_request(app)

    response = client.get(request.url(**params))

    back, _ = follow_login(client, response, user)
    assert back["Location"].startswith(reverse("oauth2_provider:authorize"))
    consent = client.get(back["Location"])
    assert consent.status_code == 200, "consent page, not the login page again"
    assert b"authorizationForm" in consent.content
    tokens = exchange(client, app, request, allow(client, consent))
    claims = id_token_claims(client, tokens["id_token"], issuer, app.client_id)
    assert claims["auth_time"] == client.session[auth_time.SESSION_KEY]
    if before is not None:
        assert claims["auth_time"] >= before + 600


def test_signed_in_user_must_know_the_password_to_sign_in_again(client, user):
    """The login form checks the password of a signed-in user too (no free pass)."""
    sign_in(client, user, seconds_ago=600)

    page = client.get(reverse("login"), {"prompt": "login", "next": "/"})
    wrong = client.post(
        reverse("login"), {"username": user.username, "password": "wrong"}
    )

    assert page.status_code == 200
    assert wrong.status_code == 200
    assert "do not match" in wrong.content.decode()


@pytest.mark.parametrize(
    ("seconds_ago", "max_age", "login"),
    [(10, 60, False), (59, 60, False), (61, 60, True), (7200, 3600, True)],
)
def test_max_age_forces_sign_in_when_the_session_is_older(
    client, user, app, seconds_ago, max_age, login
):
    """Older than max_age seconds: sign in again; younger: straight to consent.

    OIDC Core §3.1.2.1 max_age.
    """
    sign_in(client, user, seconds_ago=seconds_ago)
    request = code_request(app)

    response = client.get(request.url(max_age=str(max_age)))

    if login:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert "prompt=login" in response["Location"]
    else:
        assert response.status_code == 200
        assert b"authorizationForm" in response.content


def test_session_without_sign_in_time_signs_in_again(client, user, app):
    """A session from before sign-in times were kept cannot vouch for auth_time."""
    sign_in(client, user, seconds_ago=None)

    response = client.get(code_request(app).url())

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- auth_time ---------------------------------------------------------------------


def test_id_token_auth_time_is_this_sessions_sign_in(client, user, app, issuer):
    """auth_time is when this session signed in, not last_login nor the issue time.

    OIDC Core §2 (auth_time, REQUIRED with max_age); §12.2: a refreshed ID token
    keeps the original auth_time.
    """
    signed_in_at = sign_in(client, user, seconds_ago=1800)
    user.last_login = timezone.now()  # signed in since, in another browser
    user.save(update_fields=["last_login"])
    request = code_request(app)
    page = client.get(request.url(max_age="3600"))

    tokens = exchange(client, app, request, allow(client, page))
    claims = id_token_claims(client, tokens["id_token"], issuer, app.client_id)
    refreshed = json_of(
        token_request(
            client,
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(app.client_id, app.cleartext_secret),
        )
    )
    again = id_token_claims(client, refreshed["id_token"], issuer, app.client_id)

    assert claims["auth_time"] == signed_in_at
    assert claims["iat"] - claims["auth_time"] >= 1800
    assert again["auth_time"] == signed_in_at


# --- prompt=consent, and consent without prompt -----------------------------------


@pytest.mark.parametrize(
    ("app_fixture", "extra"),
    [("first_party", {}), ("app", {"approval_prompt": "auto"})],
)
def test_prompt_consent_always_shows_the_consent_page(
    request, client, user, app_fixture, extra
):
    """Consent on record or a first-party app: prompt=consent still asks (§3.1.2.1)."""
    application = request.getfixturevalue(app_fixture)
    sign_in(client, user)
    consent_given(user, application)
    without_prompt = client.get(code_request(application).url(**extra))
    assert without_prompt.status_code == 302, "consent on record skips the page"

    response = client.get(code_request(application).url(prompt="consent", **extra))

    assert response.status_code == 200
    assert b"authorizationForm" in response.content


def test_a_live_token_is_not_consent(client, user, app):
    """Only a remembered consent skips the page: a token (from a grant the user has
    since removed, say) does not stand in for it."""
    sign_in(client, user)
    AccessTokenFactory(user=user, application=app, scope=OIDC_SCOPE)

    response = client.get(code_request(app).url())
    silent = client.get(code_request(app).url(prompt="none"))

    assert response.status_code == 200
    assert b"authorizationForm" in response.content
    assert redirect_params(silent)["error"] == "consent_required"


def test_consent_page_is_neither_stored_nor_framed(client, user, app):
    """The page holds a CSRF token and the request: no-store, and no framing.

    RFC 6749 §10.13 (clickjacking); RFC 9111 §5.2.2.5 no-store.
    """
    sign_in(client, user)

    response = client.get(code_request(app).url())

    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert "no-store" in directives
    assert response["X-Frame-Options"] == "DENY"
    if policy := response.get("Content-Security-Policy"):
        assert "frame-ancestors 'none'" in policy


# --- discovery ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["oidc-connect-discovery-info", "oauth-server-metadata"]
)
def test_discovery_advertises_only_what_works(client, db, name):
    """prompt values we honour; claims, request and request_uri parameters: no.

    OIDC Discovery §3: request_uri_parameter_supported means true when absent.
    """
    document = client.get(reverse(f"oauth2_provider:{name}")).json()

    assert document["prompt_values_supported"] == ["none", "login", "consent"]
    assert document["claims_parameter_supported"] is False
    assert document["request_parameter_supported"] is False
    assert document["request_uri_parameter_supported"] is False
