"""The authorization code flow over real HTTP against a live server, with requests."""

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from jwcrypto import jwk, jwt

from tests.conftest import pkce_pair
from tests.e2e.conftest import CALLBACK, form_fields
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.e2e
TIMEOUT = 10


@pytest.fixture
def app(transactional_db):
    return ApplicationFactory(redirect_uris=CALLBACK, post_logout_redirect_uris="")


@pytest.fixture
def person(transactional_db):
    return UserFactory(username="bob")


def test_code_flow_over_http(live_server, app, person):
    """Discovery, login, consent, code, token, userinfo, refresh and revoke over HTTP."""
    browser = requests.Session()
    meta = browser.get(
        f"{live_server.url}/.well-known/openid-configuration", timeout=TIMEOUT
    ).json()
    assert meta["issuer"] == live_server.url
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid profile books:read",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }

    login_page = browser.get(
        f"{meta['authorization_endpoint']}?{urlencode(query)}", timeout=TIMEOUT
    )
    assert "/accounts/login/" in login_page.url
    fields = form_fields(login_page.text)
    fields.update(username="bob", password="correct horse battery")
    consent = browser.post(
        login_page.url,
        data=fields,
        headers={"Referer": login_page.url},
        timeout=TIMEOUT,
    )
    assert "wants to access your account" in consent.text
    decision = {**form_fields(consent.text), "allow": "Authorize"}
    redirect = browser.post(
        consent.url,
        data=decision,
        headers={"Referer": consent.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert redirect.status_code == 302
    params = {
        k: v[0]
        for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()
    }
    assert params["state"] == "st-1"
    assert params["iss"] == live_server.url

    basic = base64.b64encode(
        f"{app.client_id}:{app.cleartext_secret}".encode()
    ).decode()
    client = requests.Session()
    client.headers["Authorization"] = f"Basic {basic}"
    token_response = client.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    )
    assert token_response.status_code == 200, token_response.text[:500]
    tokens = token_response.json()
    keys = jwk.JWKSet.from_json(requests.get(meta["jwks_uri"], timeout=TIMEOUT).text)
    claims = json.loads(
        jwt.JWT(jwt=tokens["id_token"], key=keys, algs=["RS256"]).claims
    )
    assert claims["iss"] == live_server.url
    assert claims["nonce"] == "n-1"

    userinfo = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=TIMEOUT,
    )
    assert userinfo.json()["preferred_username"] == "bob"

    refreshed = client.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        timeout=TIMEOUT,
    ).json()
    assert refreshed["refresh_token"] != tokens["refresh_token"]

    revoked = client.post(
        meta["revocation_endpoint"],
        data={"token": refreshed["access_token"]},
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200
    after = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
        timeout=TIMEOUT,
    )
    assert after.status_code == 401
