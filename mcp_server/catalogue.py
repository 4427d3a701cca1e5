"""The REST API calls behind the tools, with an exchanged token for each.

Every failure (the authorization server's or the API's) becomes a
`CatalogueError` whose message a model can read and act on; nothing here raises
anything else for an HTTP answer.
"""

import logging
from typing import Any

import httpx2

from mcp_server.exchange import ExchangeError, TokenExchanger

logger = logging.getLogger(__name__)


class CatalogueError(Exception):
    """A call to the catalogue failed; the message is safe to show to the caller."""


def _detail(body: object) -> str:
    """DRF's error body in one line: `detail`, or each field and its messages."""
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return body["detail"]
        parts = []
        for field, messages in body.items():
            if isinstance(messages, list):
                messages = " ".join(str(message) for message in messages)
            parts.append(f"{field}: {messages}")
        return "; ".join(parts)
    if isinstance(body, list):
        return " ".join(str(item) for item in body)
    return ""


def _error(response: httpx2.Response, *, what: str) -> CatalogueError:
    try:
        detail = _detail(response.json())
    except ValueError:
        detail = ""
    status = response.status_code
    if status == 404:
        return CatalogueError(f"{what} was not found.")
    if status == 401:
        return CatalogueError(
            "The catalogue refused the delegated token (invalid_token): reconnect "
            "to the MCP server and try again."
        )
    if status == 403:
        return CatalogueError(
            f"The catalogue does not allow this for your account: {detail or 'forbidden'}."
        )
    if status == 429:
        wait = response.headers.get("Retry-After")
        later = f" in {wait} seconds" if wait else " later"
        return CatalogueError(f"Too many requests to the catalogue; try again{later}.")
    if 400 <= status < 500:
        return CatalogueError(
            f"The catalogue refused the request: {detail or f'HTTP {status}'}."
        )
    return CatalogueError(
        f"The catalogue is unavailable (HTTP {status}); try again shortly."
    )


class CatalogueApi:
    """The catalogue REST API, called with tokens exchanged for the user's."""

    def __init__(
        self, *, http: httpx2.AsyncClient, api_url: str, exchanger: TokenExchanger
    ) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/") + "/"
        self.exchanger = exchanger

    async def request(
        self,
        method: str,
        path: str,
        *,
        subject_token: str,
        scope: str,
        what: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON object the API answers, or a `CatalogueError` saying why not."""
        try:
            token = await self.exchanger.token_for(
                subject_token=subject_token, scope=scope
            )
        except ExchangeError as error:
            raise CatalogueError(str(error)) from error
        try:
            response = await self.http.request(
                method,
                self.api_url + path,
                params=params,
                json=json,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/json",
                },
            )
        except httpx2.HTTPError as error:
            logger.warning("catalogue unreachable: %s", type(error).__name__)
            raise CatalogueError(
                "The catalogue cannot be reached; try again shortly."
            ) from error
        if response.status_code == 401:
            # Revoked before its expiry: the next call exchanges afresh.
            self.exchanger.forget(subject_token=subject_token, scope=scope)
        if not response.is_success:
            logger.info("catalogue call refused status=%s", response.status_code)
            raise _error(response, what=what)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CatalogueError("The catalogue answered something unreadable.")
        return body
