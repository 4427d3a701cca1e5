"""Our authorization server and REST API, faked as one httpx2 `MockTransport`."""

import base64
import itertools
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx2

from config.mcp import McpSettings

ISSUER = "http://as.test"
MCP_URL = "http://127.0.0.1:8002/mcp"
API_RESOURCE = f"{ISSUER}/api/"
CLIENT_ID = "bookshelf-mcp"
CLIENT_SECRET = "mcp-secret"

SETTINGS = McpSettings(
    server_url=MCP_URL,
    issuer=ISSUER,
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
)

BOOK = {
    "id": 1,
    "title": "The Hobbit",
    "author": {"id": 7, "name": "J. R. R. Tolkien"},
    "publication_date": "1937-09-21",
    "price": "12.50",
    "isbn": "9780261103344",
    "summary": "There and back again.",
    "average_rating": 4.5,
    "review_count": 1,
    "created_by": "admin",
    "created": "2026-01-01T00:00:00Z",
    "updated": "2026-01-01T00:00:00Z",
}
REVIEW = {
    "id": 3,
    "book": 1,
    "user": "demo",
    "rating": 5,
    "text": "Lovely.",
    "created": "2026-02-01T00:00:00Z",
    "updated": "2026-02-01T00:00:00Z",
}
STATS = {
    "book_count": 25,
    "total_price": "300.00",
    "average_price": "12.00",
    "min_price": "5.00",
    "max_price": "30.00",
    "stddev_price": "4.20",
    "review_count": 9,
    "average_rating": 4.1,
    "by_year": [{"year": 1937, "book_count": 1, "average_price": "12.50"}],
}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def grant(scope: str = "books:read", aud: str = MCP_URL, **claims) -> dict:
    """An introspection answer for an active token of the demo user."""
    return {
        "active": True,
        "scope": scope,
        "aud": aud,
        "client_id": "some-agent",
        "sub": "42",
        "username": "demo",
        "exp": 4_000_000_000,
        **claims,
    }


def json_response(status: int, body: object, **headers: str) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers)


@dataclass
class FakeBookshelf:
    """Answers introspection, token exchange and the catalogue API from dicts."""

    tokens: dict[str, dict] = field(default_factory=dict)
    # Set to make a step fail: a status and body, or an exception to raise.
    introspection_failure: object = None
    exchange_failure: tuple[int, dict] | None = None
    api_failure: tuple[int, dict] | None = None
    api_headers: dict[str, str] = field(default_factory=dict)
    calls: list[httpx2.Request] = field(default_factory=list)
    issued: dict[str, str] = field(default_factory=dict)  # API token -> scope
    reviews: list[dict] = field(default_factory=lambda: [dict(REVIEW)])
    _serial: itertools.count = field(default_factory=itertools.count)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=self.transport())

    def paths(self) -> list[str]:
        return [request.url.path for request in self.calls]

    def form(self, request: httpx2.Request) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.calls.append(request)
        path = request.url.path
        if path == "/o/introspect/":
            return self.introspect(request)
        if path == "/o/token/":
            return self.exchange(request)
        if path.startswith("/api/v2/"):
            return self.api(request, path.removeprefix("/api/v2/"))
        return json_response(404, {"detail": "Not found."})

    def introspect(self, request: httpx2.Request) -> httpx2.Response:
        if isinstance(self.introspection_failure, Exception):
            raise self.introspection_failure
        if self.introspection_failure:
            return json_response(*self.introspection_failure)
        if request.headers.get("authorization") != basic(CLIENT_ID, CLIENT_SECRET):
            return json_response(401, {"error": "invalid_client"})
        token = self.form(request).get("token", "")
        return json_response(200, self.tokens.get(token, {"active": False}))

    def exchange(self, request: httpx2.Request) -> httpx2.Response:
        if self.exchange_failure:
            return json_response(*self.exchange_failure)
        form = self.form(request)
        subject = self.tokens.get(form.get("subject_token", ""))
        if not subject or not subject.get("active"):
            return json_response(400, {"error": "invalid_grant"})
        token = f"api-{next(self._serial)}"
        self.issued[token] = form["scope"]
        return json_response(
            200,
            {
                "access_token": token,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": form["scope"],
            },
        )

    def api(self, request: httpx2.Request, path: str) -> httpx2.Response:
        if self.api_failure:
            return json_response(*self.api_failure, **self.api_headers)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.issued:
            return json_response(401, {"detail": "Invalid token."})
        if path == "books/":
            query = request.url.params.get("search", "").lower()
            hits = [BOOK] if query in BOOK["title"].lower() else []
            return json_response(200, {"next": None, "previous": None, "results": hits})
        if path == "books/1/":
            return json_response(200, BOOK)
        if path == "books/1/reviews/" and request.method == "GET":
            return json_response(200, {"next": "x", "results": self.reviews})
        if path == "books/1/reviews/" and request.method == "POST":
            if "books:write" not in self.issued[token].split():
                return json_response(403, {"detail": "insufficient scope"})
            body = json.loads(request.content)
            review = {**REVIEW, "id": 4, "user": "demo", **body}
            self.reviews.append(review)
            return json_response(201, review)
        if path == "stats/":
            return json_response(200, STATS)
        return json_response(404, {"detail": "No Book matches the given query."})
