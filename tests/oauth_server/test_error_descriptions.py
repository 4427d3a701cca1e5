"""Every OAuth error says what went wrong (RFC 6749 §5.2 `error_description`)."""

import pytest
from django.urls import reverse

from oauth_server.http import DEFAULT_DESCRIPTIONS, error_description
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    exchange_code,
    form_post,
    json_of,
    poll_device,
    query_of,
    start_device,
    token_request,
)

REDIRECT_URI = "https://client.example/callback"


@pytest.fixture
def code_request(client, user, web_app) -> CodeRequest:
    client.force_login(user)
    return CodeRequest(client_id=web_app.client_id, redirect_uri=REDIRECT_URI)


def assert_error(response, status: int, error: str, *names: str) -> None:
    """The response is `error` with a description that mentions each of `names`."""
    body = json_of(response)
    assert (response.status_code, body["error"]) == (status, error), body
    description = body["error_description"]
    for name in names:
        assert name in description, description


def test_wrong_pkce_verifier_is_described(client, web_app, code_request):
    """A verifier that does not match the challenge says so."""
    code = authorize(client, code_request)["code"]
    response = exchange_code(
        client,
        code_request,
        code,
        auth=(web_app.client_id, web_app.cleartext_secret),
        code_verifier="x" * 50,
    )
    assert_error(response, 400, "invalid_grant", "code_verifier does not match")


def test_missing_pkce_verifier_is_described(client, web_app, code_request):
    """A code redeemed without its verifier names code_verifier."""
    code = authorize(client, code_request)["code"]
    response = exchange_code(
        client,
        code_request,
        code,
        auth=(web_app.client_id, web_app.cleartext_secret),
        code_verifier=None,
    )
    assert_error(response, 400, "invalid_request", "code_verifier is missing")


def test_replayed_code_is_described(client, web_app, code_request):
    """A code used twice: the second answer says it is used (or unknown)."""
    code = authorize(client, code_request)["code"]
    auth = (web_app.client_id, web_app.cleartext_secret)
    assert exchange_code(client, code_request, code, auth=auth).status_code == 200
    response = exchange_code(client, code_request, code, auth=auth)
    assert_error(response, 400, "invalid_grant", "already used")


def test_unknown_code_is_described(client, web_app, code_request):
    response = exchange_code(
        client,
        code_request,
        "not-a-code",
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert_error(response, 400, "invalid_grant", "authorization code is invalid")


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ("wrong-secret", "Wrong client_secret"),
        ("unknown-client", "Unknown client_id"),
        ("no-secret", "client is confidential"),
        ("public-unknown", "Unknown client_id"),
    ],
)
def test_client_authentication_failures_are_described(
    client, web_app, credentials, expected
):
    """Each way client authentication fails has its own description."""
    data = {"grant_type": "authorization_code", "code": "x"}
    auth = None
    if credentials == "wrong-secret":
        auth = (web_app.client_id, "wrong")
    elif credentials == "unknown-client":
        auth = ("nobody", "wrong")
    elif credentials == "no-secret":
        data["client_id"] = web_app.client_id
    else:
        data["client_id"] = "nobody"
    response = token_request(client, data, auth=auth)
    assert_error(response, 401, "invalid_client", expected)


def test_unsupported_grant_type_names_the_offered_ones(client, web_app):
    response = token_request(
        client,
        {"grant_type": "password", "username": "a", "password": "b"},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert_error(
        response, 400, "unsupported_grant_type", "authorization_code", "device_code"
    )


def test_grant_the_client_is_not_registered_for_is_described(client, web_app):
    response = token_request(
        client,
        {"grant_type": "client_credentials"},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert_error(
        response, 400, "unauthorized_client", "authorization-code", "client_credentials"
    )


def test_unknown_refresh_token_is_described(client, web_app):
    response = token_request(
        client,
        {"grant_type": "refresh_token", "refresh_token": "not-a-token"},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert_error(response, 400, "invalid_grant", "refresh token")


def test_scope_not_allowed_for_client_credentials_is_described(client, machine_app):
    response = token_request(
        client,
        {"grant_type": "client_credentials", "scope": "books:write"},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )
    assert_error(response, 400, "invalid_scope", "books:write", "Allowed: books:read")


def test_revocation_with_wrong_secret_is_described(client, web_app):
    response = form_post(
        client,
        reverse("oauth2_provider:revoke-token"),
        {"token": "x"},
        auth=(web_app.client_id, "wrong"),
    )
    assert_error(response, 401, "invalid_client", "Wrong client_secret")


@pytest.mark.parametrize(
    ("overrides", "error", "expected"),
    [
        (
            {"code_challenge_method": None},
            "invalid_request",
            "code_challenge_method=S256",
        ),
        ({"code_challenge_method": "plain"}, "invalid_request", "use S256"),
        (
            {"code_challenge": None, "code_challenge_method": None},
            "invalid_request",
            "code_challenge_method=S256",
        ),
        ({"scope": "openid bogus"}, "invalid_scope", "bogus"),
        ({"response_type": "token"}, "unsupported_response_type", "code"),
    ],
)
def test_authorization_errors_are_described(
    client, code_request, overrides, error, expected
):
    """Errors sent back to the client's redirect URI carry a description too."""
    response = client.get(code_request.url(**overrides))
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == error
    assert expected in params["error_description"]


def test_access_denied_is_described(client, code_request):
    """A user pressing Deny: access_denied, with a description."""
    params = authorize(client, code_request, allow=False)
    assert params["error"] == "access_denied"
    assert params["error_description"]


def test_device_polling_answers_are_described(client, device_app):
    """authorization_pending, then slow_down when polling too fast, each described."""
    started = start_device(client, device_app)
    pending = poll_device(client, device_app, started["device_code"])
    assert_error(pending, 400, "authorization_pending", "not approved")
    too_fast = poll_device(client, device_app, started["device_code"])
    assert_error(too_fast, 400, "slow_down", "interval")


def test_every_error_code_has_a_default_description():
    """Errors raised bare by oauthlib or DOT still say something specific."""
    for code, description in DEFAULT_DESCRIPTIONS.items():
        assert error_description(code) == description
    assert "unheard_of" in error_description("unheard_of")
