"""Bearer tokens checked by RFC 7662 introspection at our authorization server.

The MCP server reads nothing from the server's database: it asks `/o/introspect/`
as its own confidential client, keeps each answer a few seconds (a bounded cache,
so a burst of tool calls costs one round trip), and accepts only active access
tokens whose audience (`aud`, the RFC 8707 resource they were asked for) is its own
URL: a token minted for the REST API is refused here.
"""

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import httpx2
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthenticationError

logger = logging.getLogger(__name__)


class IntrospectionUnavailable(AuthenticationError):
    """The authorization server could not answer: the token is neither good nor bad."""


def _key(token: str) -> str:
    # The cache is keyed by a digest, so a memory dump shows no bearer tokens.
    return hashlib.sha256(token.encode()).hexdigest()


def _audiences(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class IntrospectionVerifier:
    """The SDK's `TokenVerifier`: introspection, audience check, short cache."""

    def __init__(
        self,
        *,
        http: httpx2.AsyncClient,
        introspection_url: str,
        client_id: str,
        client_secret: str,
        resource: str,
        cache_seconds: float = 5.0,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.introspection_url = introspection_url
        self.auth = (client_id, client_secret)
        self.resource = resource
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, AccessToken | None]] = OrderedDict()

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's grant if it is active and meant for us, else None (a 401)."""
        key = _key(token)
        now = self.clock()
        if (cached := self._cache.get(key)) and cached[0] > now:
            access = cached[1]
        else:
            access = self._accept(await self._introspect(token))
            until = now + self.cache_seconds
            if access and access.expires_at:
                until = min(until, access.expires_at)
            self._remember(key, until, access)
        return access.model_copy(update={"token": token}) if access else None

    async def _introspect(self, token: str) -> dict:
        try:
            response = await self.http.post(
                self.introspection_url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self.auth,
            )
        except httpx2.HTTPError as error:
            logger.warning("introspection unreachable: %s", type(error).__name__)
            raise IntrospectionUnavailable(
                "The authorization server cannot be reached."
            ) from error
        if response.status_code != 200:
            # 401 here means our own client credentials were refused: a setup error.
            logger.error(
                "introspection refused status=%s client=%s",
                response.status_code,
                self.auth[0],
            )
            raise IntrospectionUnavailable("Tokens cannot be checked at the moment.")
        try:
            answer = response.json()
        except ValueError as error:
            raise IntrospectionUnavailable("Tokens cannot be checked.") from error
        return answer if isinstance(answer, dict) else {}

    def _accept(self, answer: dict) -> AccessToken | None:
        if answer.get("active") is not True:
            return None
        if answer.get("token_type") == "refresh_token":
            return None
        if self.resource not in _audiences(answer.get("aud")):
            logger.warning(
                "token refused: audience is not this server client=%s",
                answer.get("client_id"),
            )
            return None
        expires = answer.get("exp")
        if isinstance(expires, int) and expires <= self.clock():
            return None
        scope = answer.get("scope")
        return AccessToken(
            token="",  # verify_token fills it in: the cache holds no bearer tokens
            client_id=str(answer.get("client_id", "")),
            scopes=scope.split() if isinstance(scope, str) else [],
            expires_at=expires if isinstance(expires, int) else None,
            resource=self.resource,
            subject=str(answer["sub"]) if "sub" in answer else None,
            claims={
                name: answer[name]
                for name in ("iss", "username", "act")
                if name in answer
            },
        )

    def _remember(self, key: str, until: float, access: AccessToken | None) -> None:
        self._cache[key] = (until, access)
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
