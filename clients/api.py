"""The Bookshelf resource API, called with a bearer access token."""

from typing import Any

import requests

from clients.errors import ApiError
from clients.http import raise_for_bearer_error, send


class BooksAPI:
    """`/api/v1/` endpoints; 401/403 become `InvalidToken`/`InsufficientScope`."""

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
        """One page: `{"next", "previous", "results": [...]}`."""
        return self._call("GET", "/api/v1/books/", params=params)

    def get_book(self, book_id: int) -> dict[str, Any]:
        """One book with its rating summary."""
        return self._call("GET", f"/api/v1/books/{int(book_id)}/")

    def stats(self) -> dict[str, Any]:
        """Catalogue statistics, with a per-year breakdown."""
        return self._call("GET", "/api/v1/stats/")

    def add_review(self, book_id: int, *, rating: int, text: str) -> dict[str, Any]:
        """Post a review (needs `books:write`); a second one by the same user is a 400."""
        return self._call(
            "POST",
            f"/api/v1/books/{int(book_id)}/reviews/",
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
