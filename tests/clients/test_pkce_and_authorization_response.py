"""PKCE, the authorization URL, and checks on the redirect back (state, iss)."""

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from clients.errors import AuthorizationResponseError
from clients.oauth import pkce_pair
from tests.clients.fakes import ISSUER, FakeHTTP, oauth_client


def test_pkce_pair_is_s256():
    """The challenge is BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    verifier, challenge = pkce_pair()

    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert pkce_pair()[0] != verifier


def test_authorization_request_carries_pkce_state_and_nonce():
    auth = oauth_client(FakeHTTP()).authorization_request(
        redirect_uri="http://127.0.0.1:8001/callback", scope="openid books:read"
    )

    url = urlsplit(auth.url)
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/o/authorize/"
    assert params["code_challenge_method"] == "S256"
    digest = hashlib.sha256(auth.verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip(
        "="
    )
    assert params["state"] == auth.state
    assert params["nonce"] == auth.nonce
    assert params["scope"] == "openid books:read"
    assert params["client_id"] == "web"
    assert auth.verifier not in auth.url


@pytest.fixture
def started():
    client = oauth_client(FakeHTTP())
    auth = client.authorization_request(redirect_uri="https://c/cb", scope="openid")
    return client, auth


def test_good_response_gives_the_code(started):
    client, auth = started
    params = {"code": "abc", "state": auth.state, "iss": ISSUER}
    assert client.check_authorization_response(params, request=auth) == "abc"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code": "abc", "state": "other", "iss": ISSUER}, "state_mismatch"),
        ({"code": "abc", "iss": ISSUER}, "state_mismatch"),
        (
            {"code": "abc", "state": "{state}", "iss": "https://evil.example"},
            "invalid_issuer",
        ),
        ({"code": "abc", "state": "{state}"}, "invalid_issuer"),
        (
            {"error": "access_denied", "state": "{state}", "iss": ISSUER},
            "access_denied",
        ),
        ({"state": "{state}", "iss": ISSUER}, "invalid_request"),
    ],
    ids=["wrong-state", "no-state", "wrong-iss", "no-iss", "denied", "no-code"],
)
def test_bad_responses_are_refused(started, params, error):
    """RFC 9207 `iss` first, then `state`, then the server's error, then the code."""
    client, auth = started
    params = {k: v.format(state=auth.state) for k, v in params.items()}

    with pytest.raises(AuthorizationResponseError) as raised:
        client.check_authorization_response(params, request=auth)

    assert raised.value.error == error


def test_discovery_must_name_the_configured_issuer():
    """OIDC Discovery §4.3: a document for another issuer is refused."""
    from clients.errors import OAuthError
    from clients.oauth import OAuthClient

    client = OAuthClient(
        issuer="https://other.example", client_id="web", http=FakeHTTP()
    )

    with pytest.raises(OAuthError, match="calls itself"):
        client.metadata()
