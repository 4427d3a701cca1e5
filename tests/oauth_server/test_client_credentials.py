"""Client credentials grant (RFC 6749 §4.4) for machine-to-machine clients."""

import re

import pytest

from tests.oauth_server.flows import json_of, token_request


def test_client_credentials_issue_a_token_without_refresh(client, machine_app):
    """A confidential machine client gets an access token, and no refresh token."""
    response = token_request(
        client,
        {"grant_type": "client_credentials", "scope": "books:read"},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )

    assert response.status_code == 200, response.content
    body = json_of(response)
    assert body["scope"] == "books:read"
    assert "refresh_token" not in body
    # 256 random bits, URL-safe base64 (oauth_server.tokens.generate).
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["access_token"])


def test_no_scope_means_every_allowed_scope(client, machine_app):
    """Without `scope`, the token carries the application's allowed scopes."""
    response = token_request(
        client,
        {"grant_type": "client_credentials"},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )

    assert json_of(response)["scope"] == "books:read"


def test_client_secret_in_body_is_accepted(client, machine_app):
    """client_secret_post works as well as HTTP Basic."""
    response = token_request(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": machine_app.client_id,
            "client_secret": machine_app.cleartext_secret,
        },
    )

    assert response.status_code == 200


@pytest.mark.parametrize("scope", ["books:write", "openid", "introspection", "nope"])
def test_scope_outside_allowance_is_invalid_scope(client, machine_app, scope):
    """Asking for any scope the app was not allowed gives invalid_scope."""
    response = token_request(
        client,
        {"grant_type": "client_credentials", "scope": scope},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )

    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_scope"


def test_code_flow_app_cannot_use_client_credentials(client, web_app):
    """The grant must match the application's registration."""
    response = token_request(
        client,
        {"grant_type": "client_credentials"},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )

    assert response.status_code == 400
    assert json_of(response)["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    "secret",
    ["wrong", "", "x" * 5000, "\u00e9\u00e8", "%00"],
    ids=["wrong", "empty", "huge", "unicode", "nul"],
)
def test_wrong_secret_is_401_with_basic_challenge(client, machine_app, secret):
    """A bad secret is invalid_client with 401 and a Basic challenge."""
    response = token_request(
        client,
        {"grant_type": "client_credentials"},
        auth=(machine_app.client_id, secret),
    )

    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_inactive_application_cannot_get_tokens(client, machine_app):
    """Deactivated clients fail authentication."""
    machine_app.is_active = False
    machine_app.save()

    response = token_request(
        client,
        {"grant_type": "client_credentials"},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="no-resource"),
        pytest.param({"resource": "http://127.0.0.1:8002/mcp"}, id="resource"),
    ],
)
def test_token_issuance_stays_within_three_queries(
    client, machine_app, django_assert_max_num_queries, extra
):
    """Issuing a client-credentials token inserts the token and its audit event: no
    savepoint pair, no re-read of the token just stored. The client is read from
    the database without Redis (SQLite here: the epoch, in local mode), from the
    cache once it authenticated with it (PostgreSQL + Redis here), where the two
    INSERTs and `SET LOCAL synchronous_commit` are one statement string
    (test_async_commit.py). A resource indicator is checked against settings, not
    the database."""
    auth = (machine_app.client_id, machine_app.cleartext_secret)
    token_request(client, {"grant_type": "client_credentials"}, auth=auth)  # warm
    with django_assert_max_num_queries(3):
        response = token_request(
            client, {"grant_type": "client_credentials", **extra}, auth=auth
        )

    assert response.status_code == 200, response.content


def test_app_authorized_listeners_still_get_the_token(client, machine_app):
    """DOT's `app_authorized` signal still fires, with the stored token, when
    someone listens (the re-read is paid only then)."""
    from oauth2_provider.signals import app_authorized

    received = []

    def listener(sender, request, token, **kwargs):
        received.append(token)

    app_authorized.connect(listener)
    try:
        response = token_request(
            client,
            {"grant_type": "client_credentials"},
            auth=(machine_app.client_id, machine_app.cleartext_secret),
        )
    finally:
        app_authorized.disconnect(listener)

    assert response.status_code == 200
    assert [t.application_id for t in received] == [machine_app.pk]
