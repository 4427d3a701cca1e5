"""Device authorization grant (RFC 8628) with its user verification pages."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import ApplicationFactory
from tests.oauth_server.flows import form_post, json_of, token_request

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def device_app(db):
    return ApplicationFactory(
        name="TV app",
        client_type="public",
        authorization_grant_type=DEVICE_GRANT,
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="openid profile books:read",
    )


def start(client, app, scope="books:read"):
    response = form_post(
        client,
        reverse("oauth2_provider:device-authorization"),
        {"client_id": app.client_id, "scope": scope},
    )
    assert response.status_code == 200, response.content
    return json_of(response)


def poll(client, app, device_code, *, waited=True):
    """Poll the token endpoint; `waited` pretends the interval has passed."""
    if waited:
        cache.clear()
    return token_request(
        client,
        {
            "grant_type": DEVICE_GRANT,
            "device_code": device_code,
            "client_id": app.client_id,
        },
    )


def test_device_flow_end_to_end(client, user, device_app):
    """Start, poll (pending), user enters the code and allows, poll gives tokens."""
    started = start(client, device_app)
    assert started["verification_uri"] == "http://testserver/o/device/"
    assert started["verification_uri_complete"].endswith(
        f"user_code={started['user_code']}"
    )
    assert started["interval"] == 5
    assert json_of(poll(client, device_app, started["device_code"]))["error"] == (
        "authorization_pending"
    )

    browser = client
    browser.force_login(user)
    page = browser.get(
        started["verification_uri_complete"].replace("http://testserver", "")
    )
    assert started["user_code"] in page.content.decode()
    confirm = browser.post(
        reverse("oauth2_provider:device"), {"user_code": started["user_code"]}
    )
    assert confirm.status_code == 302
    consent = browser.get(confirm["Location"])
    assert "Read the book catalogue and reviews" in consent.content.decode()
    done = browser.post(confirm["Location"], {"action": "accept"})
    assert done.status_code == 302
    assert "Device connected" in browser.get(done["Location"]).content.decode()

    response = poll(client, device_app, started["device_code"])

    assert response.status_code == 200, response.content
    body = json_of(response)
    assert body["scope"] == "books:read"
    assert body["refresh_token"]


def test_denied_device_gets_access_denied(client, user, device_app):
    """When the user denies, polling answers access_denied."""
    started = start(client, device_app)
    client.force_login(user)
    confirm = client.post(
        reverse("oauth2_provider:device"), {"user_code": started["user_code"]}
    )
    client.post(confirm["Location"], {"action": "deny"})

    response = poll(client, device_app, started["device_code"])

    assert response.status_code == 400
    assert json_of(response)["error"] == "access_denied"


def test_wrong_user_code_is_shown_as_form_error(client, user, device_app):
    """A mistyped code re-renders the form with a message."""
    start(client, device_app)
    client.force_login(user)

    response = client.post(reverse("oauth2_provider:device"), {"user_code": "NOPE1234"})

    assert response.status_code == 200
    assert "Incorrect user code" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({}, 400, "invalid_request"),
        ({"client_id": "unknown"}, 400, "invalid_request"),
        ({"scope": "books:write"}, 400, "invalid_scope"),
    ],
)
def test_device_authorization_bad_requests(client, device_app, data, status, error):
    """Missing or unknown client and scopes outside the allowance are refused."""
    body = {"client_id": device_app.client_id, **data} if data else {}
    if "client_id" in data:
        body["client_id"] = data["client_id"]

    response = form_post(client, reverse("oauth2_provider:device-authorization"), body)

    assert response.status_code == status, response.content
    assert json_of(response)["error"] == error


def test_polling_with_unknown_device_code_is_invalid_grant(client, device_app):
    """A made-up device code is refused."""
    response = poll(client, device_app, "made-up")

    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_grant"


def test_polling_faster_than_interval_gets_slow_down(client, device_app):
    """A second poll within the interval is answered slow_down (RFC 8628 §3.5)."""
    started = start(client, device_app)
    poll(client, device_app, started["device_code"])

    response = poll(client, device_app, started["device_code"], waited=False)

    assert response.status_code == 400
    assert json_of(response)["error"] == "slow_down"


def test_expired_device_code_gets_expired_token(client, device_app):
    """After expires_in, polling answers expired_token."""
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import get_device_grant_model

    started = start(client, device_app)
    get_device_grant_model().objects.update(
        expires=timezone.now() - timedelta(seconds=1)
    )

    response = poll(client, device_app, started["device_code"])

    assert response.status_code == 400
    assert json_of(response)["error"] == "expired_token"


def test_missing_device_code_is_invalid_request(client, device_app):
    """No device_code is a 400, not a crash."""
    response = token_request(
        client, {"grant_type": DEVICE_GRANT, "client_id": device_app.client_id}
    )

    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_request"
