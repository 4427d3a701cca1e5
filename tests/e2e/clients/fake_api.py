"""A stand-in for the resource API, until the real one is merged into this branch.

It speaks the documented contract (`/api/v1/books/`, `/books/{id}/`, `/stats/`,
`POST /books/{id}/reviews/`) and checks bearer tokens the way a real resource server
would: by asking the authorization server's introspection endpoint (RFC 7662), then
answering 401 `invalid_token` / 403 `insufficient_scope` with RFC 6750 headers.
Only `tests/e2e/clients/conftest.py::api_url` uses it; point that at `live_server.url` once
the real API is on this branch.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

BOOKS = [
    {
        "id": 1,
        "title": "The Left Hand of Darkness",
        "author": "Ursula K. Le Guin",
        "publication_date": "1969-03-01",
        "price": "9.99",
        "isbn": "9780441478125",
        "summary": "An envoy on a winter world.",
    },
    {
        "id": 2,
        "title": "Kindred",
        "author": "Octavia E. Butler",
        "publication_date": "1979-06-01",
        "price": "12.50",
        "isbn": "9780807083697",
        "summary": "A writer is pulled back in time.",
    },
    {
        "id": 3,
        "title": "Solaris",
        "author": "Stanisław Lem",
        "publication_date": "1961-01-01",
        "price": "11.00",
        "isbn": "9780156027601",
        "summary": "A living ocean.",
    },
]
PAGE_SIZE = 2


class FakeBooksAPI:
    """A threaded HTTP server on a free loopback port."""

    def __init__(self, *, introspection_url: str, client_id: str, secret: str):
        self.introspection_url = introspection_url
        self.credentials = (client_id, secret)
        self.reviews: list[dict[str, Any]] = []
        self.down = False  # answer 503 to everything, like a failing upstream
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def introspect(self, token: str) -> dict[str, Any]:
        response = requests.post(
            self.introspection_url,
            data={"token": token},
            auth=self.credentials,
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def book(self, book_id: int) -> dict[str, Any] | None:
        for book in BOOKS:
            if book["id"] == book_id:
                ratings = [r["rating"] for r in self.reviews if r["book"] == book_id]
                return {
                    **book,
                    "review_count": len(ratings),
                    "average_rating": sum(ratings) / len(ratings) if ratings else None,
                }
        return None

    def stats(self) -> dict[str, Any]:
        prices = [float(b["price"]) for b in BOOKS]
        ratings = [r["rating"] for r in self.reviews]
        return {
            "book_count": len(BOOKS),
            "total_price": f"{sum(prices):.2f}",
            "average_price": f"{sum(prices) / len(prices):.2f}",
            "min_price": f"{min(prices):.2f}",
            "max_price": f"{max(prices):.2f}",
            "stddev_price": "1.03",
            "review_count": len(ratings),
            "average_rating": sum(ratings) / len(ratings) if ratings else None,
            "by_year": [
                {"year": int(b["publication_date"][:4]), "book_count": 1}
                | {"average_price": b["price"]}
                for b in BOOKS
            ],
        }


def _handler(api: FakeBooksAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest output clean

        def do_GET(self) -> None:
            self.route("GET")

        def do_POST(self) -> None:
            self.route("POST")

        def route(self, method: str) -> None:
            if api.down:
                return self.reply(503, {"detail": "Service unavailable."})
            path, _, query = self.path.partition("?")
            needed = "books:write" if method == "POST" else "books:read"
            token = self.headers.get("Authorization", "")
            if not token.startswith("Bearer "):
                return self.reply(401, {"detail": "No token."}, 'Bearer realm="api"')
            info = api.introspect(token.removeprefix("Bearer "))
            if not info.get("active") or info.get("token_type") == "refresh_token":
                return self.reply(
                    401, {"detail": "Invalid token."}, 'Bearer error="invalid_token"'
                )
            if needed not in info.get("scope", "").split():
                return self.reply(
                    403,
                    {"detail": "Missing scope."},
                    f'Bearer error="insufficient_scope", scope="{needed}"',
                )
            if method == "GET" and path == "/api/v1/books/":
                return self.reply(200, self.page(query))
            if method == "GET" and path == "/api/v1/stats/":
                return self.reply(200, api.stats())
            match = re.fullmatch(r"/api/v1/books/(\d+)/(reviews/)?", path)
            book = api.book(int(match.group(1))) if match else None
            if book is None:
                return self.reply(404, {"detail": "Not found."})
            if method == "GET" and not match.group(2):
                return self.reply(200, book)
            if method == "POST" and match.group(2):
                return self.review(book, info)
            return self.reply(405, {"detail": "Method not allowed."})

        def page(self, query: str) -> dict[str, Any]:
            number = int(query.removeprefix("page=") or 1) if query else 1
            start = (number - 1) * PAGE_SIZE
            base = f"{api.url}/api/v1/books/"
            return {
                "next": f"{base}?page={number + 1}"
                if start + PAGE_SIZE < len(BOOKS)
                else None,
                "previous": f"{base}?page={number - 1}" if number > 1 else None,
                "results": [
                    api.book(b["id"]) for b in BOOKS[start : start + PAGE_SIZE]
                ],
            }

        def review(self, book: dict[str, Any], info: dict[str, Any]) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body.get("rating"), int) or not 1 <= body["rating"] <= 5:
                return self.reply(400, {"rating": ["Must be from 1 to 5."]})
            user = info.get("username")
            if any(r["book"] == book["id"] and r["user"] == user for r in api.reviews):
                return self.reply(
                    400, {"non_field_errors": ["You have already reviewed this book."]}
                )
            review = {"book": book["id"], "user": user, **body}
            api.reviews.append(review)
            return self.reply(201, {"id": len(api.reviews), **body})

        def reply(self, status: int, body: object, challenge: str = "") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if challenge:
                self.send_header("WWW-Authenticate", challenge)
            self.end_headers()
            self.wfile.write(data)

    return Handler
