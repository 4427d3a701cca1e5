"""Token-endpoint requests: client authentication, device polling, errors."""

import pytest
import requests

from clients.api import BooksAPI
from clients.errors import (
    ApiError,
    InsufficientScope,
    InvalidToken,
    OAuthError,
    ServerUnreachable,
)
from clients.oauth import DEVICE_GRANT, DeviceAuthorization
from tests.clients.fakes import FakeHTTP, oauth_client, response

TOKENS = {"access_token": "a", "token_type": "Bearer", "expires_in": 60}


def test_confidential_client_authenticates_with_basic():
    http = FakeHTTP()
    http.queue("POST", "/o/token/", response(200, TOKENS))

    oauth_client(http, secret="p@ss word").client_credentials("books:read")

    [(_, _, kwargs)] = [r for r in http.requests if r[1] == "/o/token/"]
    assert kwargs["auth"] == ("web", "p%40ss%20word")  # RFC 6749 §2.3.1
    assert "client_id" not in kwargs["data"]


def test_public_client_sends_its_id():
    http = FakeHTTP()
    http.queue("POST", "/o/token/", response(200, TOKENS))

    oauth_client(http, secret="").client_credentials("books:read")

    assert http.posted("/o/token/")[0]["client_id"] == "web"


def device(interval: int = 1, expires_at: float = 10_000.0) -> DeviceAuthorization:
    return DeviceAuthorization(
        "dc", "ABCD-EFGH", "https://a/o/device/", "", expires_at, interval
    )


def test_device_polling_waits_and_slows_down():
    """authorization_pending: same interval; slow_down: 5 seconds more (RFC 8628)."""
    http = FakeHTTP()
    http.queue(
        "POST",
        "/o/token/",
        response(400, {"error": "authorization_pending"}),
        response(400, {"error": "slow_down"}),
        response(400, {"error": "authorization_pending"}),
        response(200, TOKENS),
    )
    sleeps = []

    tokens = oauth_client(http, secret="").poll_device_token(
        device(), sleep=sleeps.append
    )

    assert tokens.access_token == "a"
    assert sleeps == [1, 1, 6, 6]
    assert http.posted("/o/token/")[0] == {
        "grant_type": DEVICE_GRANT,
        "device_code": "dc",
        "client_id": "web",
    }


@pytest.mark.parametrize("error", ["access_denied", "expired_token"])
def test_device_polling_stops_on_a_decision(error):
    http = FakeHTTP()
    http.queue("POST", "/o/token/", response(400, {"error": error}))

    with pytest.raises(OAuthError) as raised:
        oauth_client(http, secret="").poll_device_token(device(), sleep=lambda s: None)

    assert raised.value.error == error


def test_device_polling_gives_up_when_the_code_expires():
    http = FakeHTTP()
    with pytest.raises(OAuthError, match="expired_token"):
        oauth_client(http, secret="").poll_device_token(
            device(expires_at=999.0), sleep=lambda s: None
        )
    assert http.posted("/o/token/") == []


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("refused"), requests.Timeout("slow"), response(502, {})],
    ids=["refused", "timeout", "bad-gateway"],
)
def test_unreachable_server(failure):
    http = FakeHTTP()
    http.answers.clear()
    http.queue("GET", "/.well-known/openid-configuration", failure, failure)

    with pytest.raises(ServerUnreachable, match=r"https://auth\.example"):
        oauth_client(http).metadata()


def test_untrusted_certificate_says_so():
    """A TLS failure names the certificate and the fix, not "is it running?"."""
    http = FakeHTTP()
    http.answers.clear()
    failure = requests.exceptions.SSLError("certificate verify failed")
    http.queue("GET", "/.well-known/openid-configuration", failure, failure)

    with pytest.raises(ServerUnreachable, match="REQUESTS_CA_BUNDLE"):
        oauth_client(http).metadata()


def test_api_maps_bearer_errors():
    """RFC 6750 §3.1: 401 invalid_token, 403 insufficient_scope with the scope."""
    http = FakeHTTP()
    http.queue(
        "GET",
        "/api/v2/stats/",
        response(
            401, {"detail": "x"}, **{"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ),
        response(
            403,
            {"detail": "x"},
            **{
                "WWW-Authenticate": 'Bearer error="insufficient_scope", scope="books:read"'
            },
        ),
        response(400, {"rating": ["Too high."]}),
    )
    api = BooksAPI("https://api.example", "t", http=http)

    with pytest.raises(InvalidToken):
        api.stats()
    with pytest.raises(InsufficientScope) as raised:
        api.stats()
    assert raised.value.scope == "books:read"
    with pytest.raises(ApiError, match=r"rating: Too high\."):
        api.stats()
