"""RFC 8693 token exchange: the request's shape, the cache, the errors."""

import httpx2
import pytest

from mcp_server.exchange import (
    ACCESS_TOKEN_TYPE,
    TOKEN_EXCHANGE,
    ExchangeError,
    TokenExchanger,
)
from tests.mcp_server.fakes import (
    API_RESOURCE,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    FakeBookshelf,
    basic,
    grant,
)

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def exchanger(fake: FakeBookshelf, clock=None) -> TokenExchanger:
    return TokenExchanger(
        http=fake.client(),
        token_url=f"{ISSUER}/o/token/",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        resource=API_RESOURCE,
        clock=clock or Clock(),
    )


async def test_exchange_request_shape():
    """POST /o/token/ with Basic client auth, the subject token and the API resource."""
    fake = FakeBookshelf(tokens={"mcp-token": grant()})
    token = await exchanger(fake).token_for(
        subject_token="mcp-token", scope="books:read"
    )
    [request] = fake.calls
    assert request.method == "POST"
    assert request.url == f"{ISSUER}/o/token/"
    assert request.headers["authorization"] == basic(CLIENT_ID, CLIENT_SECRET)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert fake.form(request) == {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": "mcp-token",
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "resource": API_RESOURCE,
        "scope": "books:read",
    }
    assert fake.issued[token] == "books:read"


async def test_exchanged_token_is_reused_per_subject_and_scope_until_near_expiry():
    fake = FakeBookshelf(tokens={"a": grant(), "b": grant()})
    clock = Clock()
    tokens = exchanger(fake, clock)
    first = await tokens.token_for(subject_token="a", scope="books:read")
    assert await tokens.token_for(subject_token="a", scope="books:read") == first
    other_scope = await tokens.token_for(subject_token="a", scope="books:write")
    other_user = await tokens.token_for(subject_token="b", scope="books:read")
    assert len({first, other_scope, other_user}) == 3
    assert len(fake.calls) == 3
    clock.now += 3600 - 31  # expires_in is 3600; reused until 30 s before
    assert await tokens.token_for(subject_token="a", scope="books:read") == first
    clock.now += 2
    assert await tokens.token_for(subject_token="a", scope="books:read") != first
    assert len(fake.calls) == 4


async def test_forgotten_token_is_exchanged_again():
    fake = FakeBookshelf(tokens={"a": grant()})
    tokens = exchanger(fake)
    first = await tokens.token_for(subject_token="a", scope="books:read")
    tokens.forget(subject_token="a", scope="books:read")
    assert await tokens.token_for(subject_token="a", scope="books:read") != first


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (400, {"error": "invalid_grant"}, "reconnect"),
        (400, {"error": "unsupported_grant_type"}, "does not offer token exchange"),
        (400, {"error": "invalid_scope"}, "was not granted"),
        (400, {"error": "invalid_target"}, "does not know the catalogue"),
        (401, {"error": "invalid_client"}, "credentials were refused"),
        (500, {}, "HTTP 500"),
        (200, {"token_type": "Bearer"}, "without a token"),
    ],
)
async def test_refusals_become_clear_errors(status, body, says):
    fake = FakeBookshelf(tokens={"a": grant()}, exchange_failure=(status, body))
    with pytest.raises(ExchangeError, match=says):
        await exchanger(fake).token_for(subject_token="a", scope="books:read")


async def test_unreachable_token_endpoint_is_a_clear_error():
    def refuse(request):
        raise httpx2.ConnectError("refused")

    tokens = TokenExchanger(
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(refuse)),
        token_url=f"{ISSUER}/o/token/",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        resource=API_RESOURCE,
    )
    with pytest.raises(ExchangeError, match="cannot be reached"):
        await tokens.token_for(subject_token="a", scope="books:read")
