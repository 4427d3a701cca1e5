"""PKCE and authorization codes (RFC 7636, RFC 6749 §4.1.2, RFC 9700 §2.1.1)."""

import pytest
from django.core.cache import cache
from oauth2_provider.models import get_grant_model

from tests.conftest import pkce_pair
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    exchange_code,
    json_of,
    query_of,
    token_request,
)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def code_request(web_app):
    return CodeRequest(
        client_id=web_app.client_id, redirect_uri="https://client.example/callback"
    )


@pytest.mark.parametrize(
    "wrong_verifier",
    [
        "x" * 43,  # well-formed, but not the one
        pkce_pair()[0],  # another real verifier
        "short",  # malformed
        "",  # missing
    ],
)
def test_failed_pkce_verification_spends_the_code(
    signed_in, web_app, code_request, wrong_verifier
):
    """A wrong or missing code_verifier uses the code up: no second guess (RFC 7636
    §4.6, RFC 9700 §2.1.1)."""
    auth = (web_app.client_id, web_app.cleartext_secret)
    code = authorize(signed_in, code_request)["code"]

    guess = exchange_code(
        signed_in, code_request, code, auth=auth, code_verifier=wrong_verifier or None
    )
    honest = exchange_code(signed_in, code_request, code, auth=auth)

    assert guess.status_code == 400
    assert json_of(guess)["error"] in ("invalid_grant", "invalid_request")
    assert honest.status_code == 400
    assert json_of(honest)["error"] == "invalid_grant"
    assert not get_grant_model().objects.exists()


@pytest.mark.parametrize(
    "challenge",
    [
        "a" * 42,  # too short
        "a" * 129,  # too long
        "a" * 42 + "=",  # padding is not in the alphabet
        "a" * 42 + "+",  # base64, not base64url
        "a" * 42 + " ",
        "ä" * 43,
    ],
)
def test_code_challenge_must_be_well_formed(signed_in, code_request, challenge):
    """A code_challenge outside RFC 7636 §4.2's 43-128 unreserved characters is
    refused before consent, back to the client with `invalid_request`."""
    response = signed_in.get(code_request.url(code_challenge=challenge))

    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "invalid_request"
    assert "code_challenge" in params["error_description"]
    assert params["state"] == code_request.state


def test_well_formed_challenge_of_128_characters_works(
    signed_in, web_app, code_request
):
    """The longest verifier RFC 7636 allows still works end to end."""
    import base64
    import hashlib

    verifier = "v" * 128
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    code_request.verifier, code_request.challenge = verifier, challenge
    code = authorize(signed_in, code_request)["code"]

    response = exchange_code(
        signed_in,
        code_request,
        code,
        auth=(web_app.client_id, web_app.cleartext_secret),
    )

    assert response.status_code == 200, response.content


def test_code_replay_revokes_its_tokens_even_after_the_cache_is_gone(
    signed_in, web_app, code_request, api_client_for
):
    """A replayed code revokes the tokens it issued however much later it comes: the
    record is in the database, not in a cache that can be evicted (RFC 6749 §4.1.2)."""
    auth = (web_app.client_id, web_app.cleartext_secret)
    code = authorize(signed_in, code_request)["code"]
    tokens = json_of(exchange_code(signed_in, code_request, code, auth=auth))
    cache.clear()

    replay = exchange_code(signed_in, code_request, code, auth=auth)

    assert replay.status_code == 400
    assert json_of(replay)["error"] == "invalid_grant"
    assert (
        api_client_for(tokens["access_token"]).get("/api/v1/books/").status_code == 401
    )
    refresh = token_request(
        signed_in,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=auth,
    )
    assert json_of(refresh)["error"] == "invalid_grant"
