"""Authorization codes and refresh tokens work once, also when requests race.

Real HTTP requests from threads against the live server, each in its own database
transaction, released together: RFC 6749 §4.1.2 (a code is used once; a second use
revokes what it issued), RFC 9700 §4.14.2 (a refresh token replayed after rotation
revokes the whole family).
"""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from tests.conftest import pkce_pair
from tests.factories import ApplicationFactory, UserFactory
from tests.security.concurrency import post, race

ROUNDS = 20
PARALLEL = 4
REDIRECT_URI = "https://client.example/callback"

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


@pytest.fixture
def app(transactional_db):
    return ApplicationFactory(redirect_uris=REDIRECT_URI)


@pytest.fixture
def person(transactional_db):
    return UserFactory(username="racer")


def issue_code(app, person) -> tuple[str, str]:
    """A fresh authorization code as the consent step stores it; (code, verifier)."""
    verifier, challenge = pkce_pair()
    code = secrets.token_urlsafe(30)
    get_grant_model().objects.create(
        application=app,
        user=person,
        code=code,
        expires=timezone.now() + timedelta(seconds=60),
        redirect_uri=REDIRECT_URI,
        scope="openid books:read",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    return code, verifier


def code_exchange(code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }


def bearer_works(live_server, access_token: str) -> bool:
    import requests

    from tests.security.concurrency import PROXY_HEADERS, TIMEOUT

    response = requests.get(
        f"{live_server.url}/o/userinfo/",
        headers={**PROXY_HEADERS, "Authorization": f"Bearer {access_token}"},
        timeout=TIMEOUT,
    )
    return response.status_code == 200


def test_parallel_code_redemptions_issue_tokens_once_and_revoke_them(
    live_server, app, person
):
    """Of parallel redemptions of one code at most one gets tokens, none gets a 5xx,
    and the losers' replay revokes the winner's tokens (RFC 6749 §4.1.2)."""
    token_url = f"{live_server.url}/o/token/"
    auth = (app.client_id, app.cleartext_secret)
    winners = 0
    for _ in range(ROUNDS):
        code, verifier = issue_code(app, person)

        responses = race(
            token_url, [code_exchange(code, verifier)] * PARALLEL, auth=auth
        )

        statuses = sorted(r.status_code for r in responses)
        assert all(s < 500 for s in statuses), [r.text for r in responses]
        assert statuses.count(200) <= 1, statuses
        losers = [r for r in responses if r.status_code != 200]
        assert all(r.json()["error"] == "invalid_grant" for r in losers)
        for response in responses:
            if response.status_code == 200:
                winners += 1
                body = response.json()
                # The losers came after the winner: its tokens are gone.
                assert not bearer_works(live_server, body["access_token"])
                refresh = post(
                    token_url,
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": body["refresh_token"],
                    },
                    auth=auth,
                )
                assert refresh.status_code == 400
                assert refresh.json()["error"] == "invalid_grant"
    # Some round must have had a winner, or the test proves nothing.
    assert winners >= 1
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_parallel_refreshes_rotate_once_and_revoke_the_family(live_server, app, person):
    """Of parallel refreshes with one token at most one succeeds, none gets a 5xx, and
    the losers' replay revokes the family, the winner's new tokens included
    (RFC 9700 §4.14.2)."""
    token_url = f"{live_server.url}/o/token/"
    auth = (app.client_id, app.cleartext_secret)
    winners = 0
    for _ in range(ROUNDS):
        code, verifier = issue_code(app, person)
        tokens = post(token_url, code_exchange(code, verifier), auth=auth).json()
        body = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

        responses = race(token_url, [body] * PARALLEL, auth=auth)

        statuses = sorted(r.status_code for r in responses)
        assert all(s < 500 for s in statuses), [r.text for r in responses]
        assert statuses.count(200) <= 1, statuses
        assert all(
            r.json()["error"] == "invalid_grant"
            for r in responses
            if r.status_code != 200
        )
        for response in responses:
            if response.status_code == 200:
                winners += 1
                rotated = response.json()
                assert not bearer_works(live_server, rotated["access_token"])
                again = post(
                    token_url,
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": rotated["refresh_token"],
                    },
                    auth=auth,
                )
                assert again.json()["error"] == "invalid_grant"
        assert not bearer_works(live_server, tokens["access_token"])
    assert winners >= 1
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
