"""The Bookshelf resource API, called with a bearer access token."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from clients.errors import ApiError
from clients.http import raise_for_bearer_error, send

# v2, not v1: a v2 book embeds its author (`{"id", "name"}`) where v1 has only the
# id, so one call per page is enough to show who wrote what.
API_PATH = "/api/v2"


class BooksAPI:
    """`/api/v2/` endpoints; 401/403 become `InvalidToken`/`InsufficientScope`."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        timeout: float = 10.0,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.timeout = timeout
        self.http = http or requests.Session()

    def list_books(self, **params: str) -> dict[str, Any]:
        """One page: `{"next", "previous", "results": [...]}`.

        Pages are cursors: pass `cursor` from the `next` or `previous` link.
        """
        return self._call("GET", f"{API_PATH}/books/", params=params)

    def get_book(self, book_id: int) -> dict[str, Any]:
        """One book with its rating summary."""
        return self._call("GET", f"{API_PATH}/books/{int(book_id)}/")

    def list_reviews(self, book_id: int, **params: str) -> dict[str, Any]:
        """One page of a book's reviews, newest first: `{"next", "previous", "results"}`."""
        return self._call(
            "GET", f"{API_PATH}/books/{int(book_id)}/reviews/", params=params
        )

    def stats(self) -> dict[str, Any]:
        """Catalogue statistics, with a per-year breakdown."""
        return self._call("GET", f"{API_PATH}/stats/")

    def add_review(self, book_id: int, *, rating: int, text: str) -> dict[str, Any]:
        """Post a review (needs `books:write`); a second one by the same user is a 400."""
        return self._call(
            "POST",
            f"{API_PATH}/books/{int(book_id)}/reviews/",
            json={"rating": rating, "text": text},
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = send(
            self.http,
            method,
            f"{self.base_url}{path}",
            timeout=self.timeout,
            headers={
                "Authorization": f"Bearer {self.access_token}",
                "Accept": "application/json",
            },
            **kwargs,
        )
        raise_for_bearer_error(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise ApiError("api_error", _describe(body, response), response.status_code)
        if not isinstance(body, dict):
            raise ApiError("api_error", "The API answered without a JSON object.")
        return body


def cursor_of(link: str | None) -> str | None:
    """The `cursor` of a page link (`next` / `previous`), or None without one."""
    if not link:
        return None
    values = parse_qs(urlsplit(link).query).get("cursor")
    return values[0] if values else None


def _describe(body: object, response: requests.Response) -> str:
    """A readable line from a DRF error body (`detail`, or field: messages)."""
    if response.status_code == 404:
        return "Not found."
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])
        parts = []
        for name, messages in body.items():
            if isinstance(messages, list):
                messages = " ".join(str(m) for m in messages)
            parts.append(
                messages if name == "non_field_errors" else f"{name}: {messages}"
            )
        if parts:
            return " ".join(parts)
    return f"The API answered {response.status_code}."
