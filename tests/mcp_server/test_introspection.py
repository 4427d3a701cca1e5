"""Tokens are checked by introspection: active, for this server, cached briefly."""

import httpx2
import pytest
from starlette.authentication import AuthenticationError

from mcp_server.introspection import IntrospectionVerifier
from tests.mcp_server.fakes import (
    API_RESOURCE,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    MCP_URL,
    FakeBookshelf,
    basic,
    grant,
)

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def verifier(fake: FakeBookshelf, clock=None, **options) -> IntrospectionVerifier:
    return IntrospectionVerifier(
        http=fake.client(),
        introspection_url=f"{ISSUER}/o/introspect/",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        resource=MCP_URL,
        clock=clock or Clock(),
        **options,
    )


async def test_active_token_for_this_server_is_accepted():
    """An active token whose audience is the MCP URL yields its scopes and user."""
    fake = FakeBookshelf(tokens={"t": grant("books:read books:write")})
    access = await verifier(fake).verify_token("t")
    assert access.token == "t"
    assert access.scopes == ["books:read", "books:write"]
    assert access.resource == MCP_URL
    assert (access.client_id, access.subject) == ("some-agent", "42")
    assert access.claims["username"] == "demo"


async def test_introspection_request_authenticates_as_the_mcp_client():
    """The token is POSTed in the form body with HTTP Basic client credentials."""
    fake = FakeBookshelf(tokens={"t": grant()})
    await verifier(fake).verify_token("t")
    [request] = fake.calls
    assert request.method == "POST"
    assert request.url == f"{ISSUER}/o/introspect/"
    assert request.headers["authorization"] == basic(CLIENT_ID, CLIENT_SECRET)
    assert fake.form(request) == {"token": "t", "token_type_hint": "access_token"}


@pytest.mark.parametrize(
    "answer",
    [
        {"active": False},
        grant(active=False),
        grant(aud=API_RESOURCE),
        grant(aud=f"{MCP_URL}/other"),
        {key: value for key, value in grant().items() if key != "aud"},
        grant(token_type="refresh_token"),
        grant(exp=999_999),
        grant(active="true"),
    ],
    ids=[
        "inactive",
        "inactive-with-claims",
        "rest-api-audience",
        "other-audience",
        "no-audience",
        "refresh-token",
        "expired",
        "active-not-boolean",
    ],
)
async def test_token_is_refused(answer):
    """Inactive, expired, refresh and other-audience tokens are refused."""
    fake = FakeBookshelf(tokens={"t": answer})
    assert await verifier(fake).verify_token("t") is None


async def test_audience_list_naming_this_server_is_accepted():
    fake = FakeBookshelf(tokens={"t": grant(aud=[API_RESOURCE, MCP_URL])})
    assert (await verifier(fake).verify_token("t")).resource == MCP_URL


async def test_answers_are_cached_for_a_few_seconds():
    """A burst of calls with one token costs one introspection; then it is asked again."""
    fake = FakeBookshelf(tokens={"t": grant(), "bad": {"active": False}})
    clock = Clock()
    checker = verifier(fake, clock, cache_seconds=5)
    for _ in range(3):
        assert await checker.verify_token("t")
        assert await checker.verify_token("bad") is None
    assert len(fake.calls) == 2
    fake.tokens["t"] = {"active": False}  # revoked meanwhile
    clock.now += 4
    assert await checker.verify_token("t")
    clock.now += 2
    assert await checker.verify_token("t") is None
    assert len(fake.calls) == 3


async def test_cache_ends_at_the_token_expiry():
    clock = Clock()
    fake = FakeBookshelf(tokens={"t": grant(exp=int(clock.now) + 2)})
    checker = verifier(fake, clock, cache_seconds=60)
    assert await checker.verify_token("t")
    clock.now += 3
    assert await checker.verify_token("t") is None
    assert len(fake.calls) == 2


async def test_cache_is_bounded():
    """The oldest answers go first once the cache is full."""
    fake = FakeBookshelf(tokens={f"t{i}": grant() for i in range(4)})
    checker = verifier(fake, cache_size=2)
    for i in range(4):
        await checker.verify_token(f"t{i}")
    assert len(checker._cache) == 2
    await checker.verify_token("t0")
    assert len(fake.calls) == 5


async def test_cache_holds_no_bearer_tokens():
    fake = FakeBookshelf(tokens={"secret-token": grant()})
    checker = verifier(fake)
    await checker.verify_token("secret-token")
    assert "secret-token" not in repr(checker._cache)


@pytest.mark.parametrize(
    "failure",
    [
        httpx2.ConnectError("refused"),
        (401, {"error": "invalid_client"}),
        (500, {}),
    ],
    ids=["unreachable", "client-refused", "server-error"],
)
async def test_authorization_server_failure_is_not_a_verdict(failure):
    """No answer from the authorization server raises (a 503), and is not cached."""
    fake = FakeBookshelf(tokens={"t": grant()}, introspection_failure=failure)
    checker = verifier(fake)
    with pytest.raises(AuthenticationError):
        await checker.verify_token("t")
    fake.introspection_failure = None
    assert await checker.verify_token("t")
