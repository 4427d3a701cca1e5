"""The tools, driven in-process by the official SDK's own client.

`mcp.client.streamable_http` + `ClientSession` speak to the app over httpx2's ASGI
transport; a stub token verifier stands in for introspection; the REST API and the
token endpoint are the fake of `fakes.py`.
"""

import re
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.provider import AccessToken

from mcp_server.catalogue import CatalogueApi
from mcp_server.exchange import TokenExchanger
from mcp_server.server import create_app
from tests.mcp_server.fakes import (
    API_RESOURCE,
    BOOK,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    MCP_URL,
    STATS,
    FakeBookshelf,
    grant,
)

pytestmark = pytest.mark.anyio

SCOPES = {"reader": "books:read", "writer": "books:read books:write"}


class StubVerifier:
    """Accepts the tokens of `SCOPES`, for the MCP server's own URL."""

    async def verify_token(self, token: str) -> AccessToken | None:
        if token not in SCOPES:
            return None
        return AccessToken(
            token=token,
            client_id="agent",
            scopes=SCOPES[token].split(),
            resource=MCP_URL,
            subject="42",
        )


@pytest.fixture
def fake() -> FakeBookshelf:
    return FakeBookshelf(tokens={name: grant(scope) for name, scope in SCOPES.items()})


@pytest.fixture
def connect(fake):
    """`async with connect(token) as session`: an initialized SDK client session."""

    @asynccontextmanager
    async def connect(token: str):
        outbound = fake.client()
        exchanger = TokenExchanger(
            http=outbound,
            token_url=f"{ISSUER}/o/token/",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            resource=API_RESOURCE,
        )
        app = create_app(
            server_url=MCP_URL,
            issuer=ISSUER,
            verifier=StubVerifier(),
            catalogue=CatalogueApi(
                http=outbound, api_url=f"{ISSUER}/api/v2/", exchanger=exchanger
            ),
        )
        http = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app),
            headers={"Authorization": f"Bearer {token}"},
        )
        async with (
            outbound,
            app.router.lifespan_context(app),
            http,
            streamable_http_client(MCP_URL, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session

    return connect


async def test_tools_are_listed_with_their_inputs(connect):
    async with connect("reader") as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert sorted(tools) == [
        "add_review",
        "book_details",
        "catalogue_statistics",
        "search_books",
    ]
    assert tools["search_books"].input_schema["required"] == ["query"]
    assert set(tools["add_review"].input_schema["properties"]) == {
        "book_id",
        "rating",
        "text",
    }
    assert tools["search_books"].annotations.read_only_hint is True
    assert tools["add_review"].annotations.read_only_hint is False


async def test_search_books(connect, fake):
    """The query goes to the API's search with an exchanged books:read token."""
    async with connect("reader") as session:
        result = await session.call_tool("search_books", {"query": "hobbit"})
    assert result.is_error is False
    assert result.structured_content == {
        "books": [
            {
                "id": 1,
                "title": "The Hobbit",
                "author": "J. R. R. Tolkien",
                "publication_date": "1937-09-21",
                "price": "12.50",
                "average_rating": 4.5,
                "review_count": 1,
            }
        ],
        "more": False,
    }
    [search] = [c for c in fake.calls if c.url.path == "/api/v2/books/"]
    assert search.url.params["search"] == "hobbit"
    assert search.url.params["page_size"] == "10"
    token = search.headers["authorization"].removeprefix("Bearer ")
    assert fake.issued[token] == "books:read"  # never the MCP token itself


async def test_book_details_with_reviews(connect):
    async with connect("reader") as session:
        result = await session.call_tool("book_details", {"book_id": 1})
    assert result.is_error is False
    details = result.structured_content
    assert details["book"]["title"] == BOOK["title"]
    assert details["book"]["summary"] == BOOK["summary"]
    assert details["reviews"] == [
        {
            "id": 3,
            "user": "demo",
            "rating": 5,
            "text": "Lovely.",
            "created": "2026-02-01T00:00:00Z",
        }
    ]
    assert details["more_reviews"] is True


async def test_catalogue_statistics(connect, fake):
    async with connect("reader") as session:
        first = await session.call_tool("catalogue_statistics", {})
        await session.call_tool("catalogue_statistics", {})
    assert first.structured_content == STATS
    assert fake.paths().count("/o/token/") == 1  # the exchanged token is reused


async def test_add_review_as_the_signed_in_user(connect, fake):
    """The review is POSTed with an exchanged books:write token."""
    async with connect("writer") as session:
        result = await session.call_tool(
            "add_review", {"book_id": 1, "rating": 4, "text": "Still good."}
        )
    assert result.is_error is False
    assert result.structured_content["text"] == "Still good."
    assert result.structured_content["user"] == "demo"
    [post] = [c for c in fake.calls if c.method == "POST" and "reviews" in str(c.url)]
    token = post.headers["authorization"].removeprefix("Bearer ")
    assert fake.issued[token] == "books:write"


@pytest.mark.parametrize(
    ("tool", "arguments", "failure", "says"),
    [
        ("book_details", {"book_id": 99}, None, "Book 99 was not found"),
        (
            "search_books",
            {"query": "x"},
            (403, {"detail": "You do not have permission."}),
            "does not allow this for your account: You do not have permission",
        ),
        (
            "catalogue_statistics",
            {},
            (429, {"detail": "Request was throttled."}),
            "try again in 30 seconds",
        ),
        (
            "catalogue_statistics",
            {},
            (401, {"detail": "Invalid token."}),
            "refused the delegated token",
        ),
        ("catalogue_statistics", {}, (502, {}), "unavailable \\(HTTP 502\\)"),
        ("catalogue_statistics", {}, (200, ["not", "an", "object"]), "unreadable"),
    ],
)
async def test_api_errors_become_tool_errors(
    connect, fake, tool, arguments, failure, says
):
    fake.api_failure = failure
    fake.api_headers = {"Retry-After": "30"}
    async with connect("writer") as session:
        result = await session.call_tool(tool, arguments)
    assert result.is_error is True
    assert re.search(says, result.content[0].text)


async def test_review_validation_error_is_a_tool_error(connect, fake):
    fake.api_failure = (
        400,
        {"non_field_errors": ["You have already reviewed this book."]},
    )
    async with connect("writer") as session:
        result = await session.call_tool(
            "add_review", {"book_id": 1, "rating": 5, "text": "Again."}
        )
    assert result.is_error is True
    assert "already reviewed" in result.content[0].text


async def test_exchange_refusal_is_a_tool_error(connect, fake):
    fake.exchange_failure = (400, {"error": "unsupported_grant_type"})
    async with connect("reader") as session:
        result = await session.call_tool("catalogue_statistics", {})
    assert result.is_error is True
    assert "does not offer token exchange" in result.content[0].text


async def test_bad_arguments_are_a_tool_error(connect, fake):
    """Arguments are checked before anything is called."""
    async with connect("writer") as session:
        result = await session.call_tool(
            "add_review", {"book_id": 1, "rating": 9, "text": "Too much."}
        )
    assert result.is_error is True
    assert "rating" in result.content[0].text
    assert fake.calls == []
