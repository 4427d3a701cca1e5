"""RFC 8693 token exchange: a token for the REST API, on the user's behalf.

The MCP server never forwards the token it received (its audience is the MCP
server, and the REST API refuses it). It exchanges it at our token endpoint for one
whose audience is the REST API, with the scope the tool needs, and keeps that token
per (subject token, scope) until shortly before it expires.
"""

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import httpx2

logger = logging.getLogger(__name__)

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
# An exchanged token is reused until this many seconds before it expires.
EXPIRY_MARGIN = 30.0

# RFC 6749 §5.2 / RFC 8693 §2.2.2 error codes, said so a model can act on them.
MESSAGES = {
    "invalid_grant": (
        "Your sign-in is no longer valid for the catalogue (expired or revoked): "
        "reconnect to the MCP server."
    ),
    "invalid_scope": "The catalogue access this needs was not granted to you.",
    "invalid_target": "The authorization server does not know the catalogue API.",
    "invalid_client": (
        "The MCP server's own client credentials were refused by the "
        "authorization server (a configuration error on the server side)."
    ),
    "unauthorized_client": (
        "The MCP server is not allowed to exchange tokens at the authorization "
        "server (a configuration error on the server side)."
    ),
    "unsupported_grant_type": (
        "The authorization server does not offer token exchange (RFC 8693), so the "
        "MCP server cannot call the catalogue on your behalf."
    ),
}


class ExchangeError(Exception):
    """The token exchange failed; the message is safe to show to the caller."""


class TokenExchanger:
    """Exchanges subject tokens at the token endpoint, with a bounded cache."""

    def __init__(
        self,
        *,
        http: httpx2.AsyncClient,
        token_url: str,
        client_id: str,
        client_secret: str,
        resource: str,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.auth = (client_id, client_secret)
        self.resource = resource
        self.cache_size = cache_size
        self.clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, str]] = OrderedDict()

    async def token_for(self, *, subject_token: str, scope: str) -> str:
        """An access token for the REST API carrying `scope`, for the subject's user."""
        key = (hashlib.sha256(subject_token.encode()).hexdigest(), scope)
        if (cached := self._cache.get(key)) and cached[0] > self.clock():
            return cached[1]
        body = await self._exchange(subject_token=subject_token, scope=scope)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ExchangeError("The authorization server answered without a token.")
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float) and expires_in > 0:
            margin = min(EXPIRY_MARGIN, expires_in / 2)
            self._remember(key, self.clock() + expires_in - margin, token)
        return token

    def forget(self, *, subject_token: str, scope: str) -> None:
        """Drop a cached token the API refused (revoked before its expiry)."""
        key = (hashlib.sha256(subject_token.encode()).hexdigest(), scope)
        self._cache.pop(key, None)

    async def _exchange(self, *, subject_token: str, scope: str) -> dict:
        try:
            response = await self.http.post(
                self.token_url,
                data={
                    "grant_type": TOKEN_EXCHANGE,
                    "subject_token": subject_token,
                    "subject_token_type": ACCESS_TOKEN_TYPE,
                    "resource": self.resource,
                    "scope": scope,
                },
                auth=self.auth,
            )
        except httpx2.HTTPError as error:
            logger.warning("token exchange unreachable: %s", type(error).__name__)
            raise ExchangeError(
                "The authorization server cannot be reached; try again shortly."
            ) from error
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code == 200:
            return body
        error = body.get("error")
        logger.warning(
            "token exchange refused status=%s error=%s", response.status_code, error
        )
        if error in MESSAGES:
            raise ExchangeError(MESSAGES[error])
        raise ExchangeError(
            f"The authorization server refused the token exchange "
            f"(HTTP {response.status_code}{f', {error}' if error else ''})."
        )

    def _remember(self, key: tuple[str, str], until: float, token: str) -> None:
        self._cache[key] = (until, token)
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
