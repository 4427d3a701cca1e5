"""Refresh before expiry and on `invalid_token`, rotation, and revoked grants."""

import pytest
import requests

from clients.errors import InvalidToken, OAuthError, ServerUnreachable, SignInRequired
from clients.tokens import TokenKeeper, Tokens
from tests.clients.fakes import FakeHTTP, oauth_client, response

NOW = 1000.0


def rotated(n: int) -> requests.Response:
    return response(
        200,
        {
            "access_token": f"at-{n}",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": f"rt-{n}",
            "scope": "openid books:read",
        },
    )


class Store:
    def __init__(self, tokens: Tokens | None) -> None:
        self.tokens = tokens
        self.saves = 0

    def load(self) -> Tokens | None:
        return self.tokens

    def save(self, tokens: Tokens | None) -> None:
        self.tokens = tokens
        self.saves += 1


def keeper_for(http: FakeHTTP, tokens: Tokens | None) -> tuple[TokenKeeper, Store]:
    store = Store(tokens)
    keeper = TokenKeeper(
        oauth_client(http, clock=lambda: NOW),
        load=store.load,
        save=store.save,
        clock=lambda: NOW,
    )
    return keeper, store


def fresh(expires_at: float = NOW + 3600) -> Tokens:
    return Tokens("at-0", expires_at, "openid books:read", "rt-0", "id-0")


def test_token_response_keeps_what_a_refresh_leaves_out():
    """RFC 6749 §6: no new refresh token or scope means the old ones still hold."""
    tokens = Tokens.from_response(
        {"access_token": "a", "token_type": "bearer", "expires_in": 60},
        now=NOW,
        previous=fresh(),
    )
    assert (tokens.refresh_token, tokens.scope, tokens.id_token) == (
        "rt-0",
        "openid books:read",
        "id-0",
    )
    assert tokens.expires_at == NOW + 60


def test_valid_token_is_used_without_refresh():
    http = FakeHTTP()
    keeper, _store = keeper_for(http, fresh())

    assert keeper.call(lambda token: token) == "at-0"
    assert http.posted("/o/token/") == []


def test_token_about_to_expire_is_refreshed_first():
    http = FakeHTTP()
    http.queue("POST", "/o/token/", rotated(1))
    keeper, store = keeper_for(http, fresh(expires_at=NOW + 10))

    assert keeper.call(lambda token: token) == "at-1"
    assert http.posted("/o/token/") == [
        {"grant_type": "refresh_token", "refresh_token": "rt-0"}
    ]
    assert store.tokens.refresh_token == "rt-1"  # the rotated one is kept


def test_refused_token_is_refreshed_once_and_retried():
    http = FakeHTTP()
    http.queue("POST", "/o/token/", rotated(1))
    keeper, _store = keeper_for(http, fresh())
    seen = []

    def api(token: str) -> str:
        seen.append(token)
        if token == "at-0":
            raise InvalidToken("invalid_token")
        return "books"

    assert keeper.call(api) == "books"
    assert seen == ["at-0", "at-1"]


def test_second_refusal_means_sign_in_again():
    http = FakeHTTP()
    http.queue("POST", "/o/token/", rotated(1))
    keeper, store = keeper_for(http, fresh())

    def api(token: str):
        raise InvalidToken("invalid_token")

    with pytest.raises(SignInRequired):
        keeper.call(api)
    assert store.tokens is None


def test_revoked_refresh_token_means_sign_in_again():
    """invalid_grant on refresh (revoked elsewhere, or replay): tokens forgotten."""
    http = FakeHTTP()
    http.queue("POST", "/o/token/", response(400, {"error": "invalid_grant"}))
    keeper, store = keeper_for(http, fresh(expires_at=NOW))

    with pytest.raises(SignInRequired):
        keeper.call(lambda token: token)
    assert store.tokens is None


def test_unreachable_server_keeps_the_tokens():
    http = FakeHTTP()
    http.queue("POST", "/o/token/", requests.ConnectionError("refused"))
    keeper, store = keeper_for(http, fresh(expires_at=NOW))

    with pytest.raises(ServerUnreachable):
        keeper.call(lambda token: token)
    assert store.tokens == fresh(expires_at=NOW)


def test_tokens_refreshed_meanwhile_are_adopted():
    """A concurrent refresh already rotated the tokens: do not spend the old one."""
    http = FakeHTTP()
    keeper, _store = keeper_for(http, fresh(expires_at=NOW))
    newer = Tokens("at-9", NOW + 3600, "openid", "rt-9")
    keeper.reload = lambda: newer

    assert keeper.call(lambda token: token) == "at-9"
    assert http.posted("/o/token/") == []


def test_no_tokens_means_sign_in():
    keeper, _ = keeper_for(FakeHTTP(), None)
    with pytest.raises(SignInRequired):
        keeper.call(lambda token: token)


def test_other_token_errors_are_not_swallowed():
    http = FakeHTTP()
    http.queue("POST", "/o/token/", response(400, {"error": "invalid_request"}))
    keeper, store = keeper_for(http, fresh(expires_at=NOW))

    with pytest.raises(OAuthError) as raised:
        keeper.call(lambda token: token)
    assert raised.value.error == "invalid_request"
    assert store.tokens is not None
