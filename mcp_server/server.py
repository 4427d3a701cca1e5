"""The catalogue MCP server: its tools, and the Starlette app that serves them.

Built with the official MCP SDK: `MCPServer` holds the tools and the Streamable
HTTP transport; the SDK's `BearerAuthBackend` (with our introspection verifier and
its audience check) authenticates, and its RFC 9728 route publishes the metadata.
Our `ScopeGuard` sits between them and the transport (see `mcp_server/guard.py`).
"""

from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx2
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    BearerAuthBackend,
)
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import (
    build_resource_metadata_url,
    create_protected_resource_routes,
)
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import AnyHttpUrl, Field
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.routing import Mount

from config.mcp import McpSettings
from mcp_server.catalogue import CatalogueApi, CatalogueError
from mcp_server.exchange import TokenExchanger
from mcp_server.guard import ScopeGuard
from mcp_server.introspection import IntrospectionVerifier

BOOKS_READ = "books:read"
BOOKS_WRITE = "books:write"
# Every request needs BOOKS_READ; a tools/call of these tools needs more as well.
BASE_SCOPES = [BOOKS_READ]
TOOL_SCOPES = {"add_review": [BOOKS_WRITE]}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
REVIEWS_SHOWN = 20

READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


def subject_token(ctx: Context, *, needs: str) -> str:
    """The bearer token of the HTTP request this tool call arrived in."""
    # The request's own user, not the SDK's context variable: a stateful session's
    # task keeps the token of the request that opened it, even after a step-up.
    request = ctx.request_context.request
    user = request.scope.get("user") if request is not None else None
    if not isinstance(user, AuthenticatedUser):
        raise ToolError("This call carries no access token.")
    if needs not in user.scopes:
        raise ToolError(f"Your access token lacks the {needs} scope.")
    return user.access_token.token


def book_summary(book: dict[str, Any]) -> dict[str, Any]:
    """The fields of a v2 book an agent needs to talk about it."""
    author = book.get("author")
    return {
        "id": book.get("id"),
        "title": book.get("title"),
        "author": author.get("name") if isinstance(author, dict) else author,
        "publication_date": book.get("publication_date"),
        "price": book.get("price"),
        "average_rating": book.get("average_rating"),
        "review_count": book.get("review_count"),
    }


def review_summary(review: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "user", "rating", "text", "created")
    return {key: review.get(key) for key in keys}


def build_server(catalogue: CatalogueApi, **options: Any) -> MCPServer:
    """The MCP server and its four tools, calling `catalogue` for the user."""
    server = MCPServer(
        "bookshelf-catalogue",
        title="Bookshelf catalogue",
        instructions=(
            "Search the Bookshelf book catalogue, read a book's details and reviews, "
            "see catalogue statistics, and write a review as the signed-in user."
        ),
        **options,
    )

    async def call(
        ctx: Context, method: str, path: str, *, scope: str, **kw: Any
    ) -> dict[str, Any]:
        token = subject_token(ctx, needs=scope)
        try:
            return await catalogue.request(
                method, path, subject_token=token, scope=scope, **kw
            )
        except CatalogueError as error:
            raise ToolError(str(error)) from error

    @server.tool(annotations=READ_ONLY)
    async def search_books(
        query: Annotated[str, Field(min_length=1, max_length=200)],
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> dict[str, Any]:
        """Search books by title, author name, ISBN or summary."""
        page = await call(
            ctx,
            "GET",
            "books/",
            scope=BOOKS_READ,
            what="The book list",
            params={"search": query, "page_size": limit},
        )
        books = [book_summary(book) for book in page.get("results", [])]
        return {"books": books, "more": bool(page.get("next"))}

    @server.tool(annotations=READ_ONLY)
    async def book_details(
        book_id: Annotated[int, Field(ge=1)], ctx: Context
    ) -> dict[str, Any]:
        """One book with its summary and its most recent reviews."""
        what = f"Book {book_id}"
        book = await call(ctx, "GET", f"books/{book_id}/", scope=BOOKS_READ, what=what)
        reviews = await call(
            ctx,
            "GET",
            f"books/{book_id}/reviews/",
            scope=BOOKS_READ,
            what=what,
            params={"page_size": REVIEWS_SHOWN},
        )
        return {
            "book": {
                **book_summary(book),
                "isbn": book.get("isbn"),
                "summary": book.get("summary"),
            },
            "reviews": [review_summary(r) for r in reviews.get("results", [])],
            "more_reviews": bool(reviews.get("next")),
        }

    @server.tool(annotations=READ_ONLY)
    async def catalogue_statistics(ctx: Context) -> dict[str, Any]:
        """Book count, price figures, review count and average rating, per year too."""
        return await call(ctx, "GET", "stats/", scope=BOOKS_READ, what="The statistics")

    @server.tool(
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=False, openWorldHint=False
        )
    )
    async def add_review(
        book_id: Annotated[int, Field(ge=1)],
        rating: Annotated[int, Field(ge=1, le=5)],
        text: Annotated[str, Field(max_length=5000)],
        ctx: Context,
    ) -> dict[str, Any]:
        """Write a review (rating 1-5) of a book, as the signed-in user.

        Needs the books:write scope; one review per user and book.
        """
        review = await call(
            ctx,
            "POST",
            f"books/{book_id}/reviews/",
            scope=BOOKS_WRITE,
            what=f"Book {book_id}",
            json={"rating": rating, "text": text},
        )
        return {**review_summary(review), "book": review.get("book")}

    return server


def transport_security(server_url: str) -> TransportSecuritySettings:
    """DNS-rebinding protection: only our own host (any port on loopback)."""
    parts = urlsplit(server_url)
    if parts.hostname in LOOPBACK:
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        origins = [f"{parts.scheme}://{host}" for host in hosts]
    else:
        hosts = [parts.netloc]
        origins = [f"{parts.scheme}://{parts.netloc}"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=origins,
    )


def unavailable(conn: HTTPConnection, error: Exception) -> JSONResponse:
    """The authorization server could not check the token: 503, not 401."""
    return JSONResponse(
        {"error": "temporarily_unavailable", "error_description": str(error)},
        status_code=503,
        headers={"Retry-After": "5", "Cache-Control": "no-store"},
    )


def create_app(
    *,
    server_url: str,
    issuer: str,
    verifier: TokenVerifier,
    catalogue: CatalogueApi,
) -> Starlette:
    """The ASGI app: RFC 9728 metadata, and the MCP endpoint behind bearer auth."""
    server = build_server(catalogue)
    path = urlsplit(server_url).path or "/"
    transport = server.streamable_http_app(
        streamable_http_path=path,
        # No server-side sessions: every request carries its token and is checked.
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(server_url),
    )
    metadata_url = str(build_resource_metadata_url(AnyHttpUrl(server_url)))
    guarded = AuthenticationMiddleware(
        AuthContextMiddleware(
            ScopeGuard(
                transport,
                base_scopes=BASE_SCOPES,
                tool_scopes=TOOL_SCOPES,
                resource_metadata_url=metadata_url,
            )
        ),
        backend=BearerAuthBackend(verifier, resource_server_url=AnyHttpUrl(server_url)),
        on_error=unavailable,
    )
    metadata = create_protected_resource_routes(
        resource_url=server_url,
        authorization_servers=[issuer],
        scopes_supported=[BOOKS_READ, BOOKS_WRITE],
        resource_name="Bookshelf catalogue (MCP)",
    )
    return Starlette(
        routes=[*metadata, Mount("/", app=guarded)],
        lifespan=lambda app: server.session_manager.run(),
    )


def app_from_settings(settings: McpSettings, *, http: httpx2.AsyncClient) -> Starlette:
    """The app wired to the authorization server and API that `settings` name."""
    credentials = {
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
    }
    verifier = IntrospectionVerifier(
        http=http,
        introspection_url=settings.introspection_url,
        resource=settings.server_url,
        cache_seconds=settings.introspection_cache_seconds,
        cache_size=settings.introspection_cache_size,
        **credentials,
    )
    exchanger = TokenExchanger(
        http=http,
        token_url=settings.token_url,
        resource=settings.api_resource,
        **credentials,
    )
    catalogue = CatalogueApi(http=http, api_url=settings.api_url, exchanger=exchanger)
    return create_app(
        server_url=settings.server_url,
        issuer=settings.issuer,
        verifier=verifier,
        catalogue=catalogue,
    )
