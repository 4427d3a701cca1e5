"""Token sets and keeping them fresh: refresh before expiry, and once on `invalid_token`.

Shared by the web client (tokens in its server-side session) and the CLI (a token file).
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from clients.errors import InvalidToken, OAuthError, SignInRequired

if TYPE_CHECKING:
    from clients.oauth import OAuthClient

logger = logging.getLogger(__name__)

# Refresh this many seconds before the access token's announced expiry, so a token
# does not die between our check and the API's.
REFRESH_MARGIN = 30

T = TypeVar("T")


@dataclass
class Tokens:
    """What a token response gave us; `expires_at` is a Unix time or None."""

    access_token: str = field(repr=False)
    expires_at: float | None = None
    scope: str = ""
    refresh_token: str = field(default="", repr=False)
    id_token: str = field(default="", repr=False)
    token_type: str = "Bearer"

    @classmethod
    def from_response(
        cls,
        data: dict[str, Any],
        *,
        now: float,
        requested_scope: str = "",
        previous: "Tokens | None" = None,
    ) -> "Tokens":
        """Build from a token response (RFC 6749 §5.1) and what we had before."""
        if not data.get("access_token") or str(data.get("token_type", "")).lower() != (
            "bearer"
        ):
            raise OAuthError(
                "invalid_response", "The token response has no bearer token."
            )
        expires_in = data.get("expires_in")
        # §5.1: `scope` may be left out when it is what was asked for; §6: a refresh
        # response may leave out `refresh_token` (keep the old one) and `id_token`.
        return cls(
            access_token=data["access_token"],
            expires_at=now + float(expires_in) if expires_in is not None else None,
            scope=data.get("scope")
            or requested_scope
            or (previous.scope if previous else ""),
            refresh_token=data.get("refresh_token")
            or (previous.refresh_token if previous else ""),
            id_token=data.get("id_token") or (previous.id_token if previous else ""),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Tokens":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())

    def has_scope(self, name: str) -> bool:
        """Whether the token was granted `name`."""
        return name in self.scopes

    def expires_soon(self, now: float, margin: float = REFRESH_MARGIN) -> bool:
        """Whether the access token expires within `margin` seconds."""
        return self.expires_at is not None and now >= self.expires_at - margin


class TokenKeeper:
    """Runs calls with a fresh access token, refreshing (with rotation) when needed.

    `load`/`save` are the storage (a session, a file); `reload` re-reads it under
    `lock` so that two requests sharing tokens do not both spend the same refresh
    token: with rotation and reuse detection, the second would revoke the family.
    """

    def __init__(
        self,
        oauth: "OAuthClient",
        *,
        load: Callable[[], Tokens | None],
        save: Callable[[Tokens | None], None],
        reload: Callable[[], Tokens | None] | None = None,
        lock: Callable[[], AbstractContextManager[object]] = nullcontext,
        clock: Callable[[], float] = time.time,
        margin: float = REFRESH_MARGIN,
    ) -> None:
        self.oauth = oauth
        self.load = load
        self.save = save
        self.reload = reload or load
        self.lock = lock
        self.clock = clock
        self.margin = margin

    def current(self) -> Tokens:
        """The stored tokens, refreshed first if the access token is about to expire."""
        tokens = self.load()
        if tokens is None:
            raise SignInRequired("not_signed_in", "You are not signed in.")
        if tokens.expires_soon(self.clock(), self.margin):
            tokens = self.refresh(tokens)
        return tokens

    def call(self, fn: Callable[[str], T]) -> T:
        """`fn(access_token)`; on `invalid_token`, refresh once and try again."""
        tokens = self.current()
        try:
            return fn(tokens.access_token)
        except InvalidToken:
            logger.info("access token refused; refreshing")
        tokens = self.refresh(tokens)
        try:
            return fn(tokens.access_token)
        except InvalidToken as error:
            self.save(None)
            raise SignInRequired(
                "invalid_token", "The server no longer accepts your sign-in."
            ) from error

    def refresh(self, stale: Tokens) -> Tokens:
        """New tokens for `stale`, unless someone refreshed them meanwhile."""
        with self.lock():
            current = self.reload()
            if current is not None and current.access_token != stale.access_token:
                return current
            if not stale.refresh_token:
                self.save(None)
                raise SignInRequired("expired", "Your access has expired.")
            try:
                fresh = self.oauth.refresh(stale.refresh_token, previous=stale)
            except OAuthError as error:
                if error.error not in {"invalid_grant", "invalid_client"}:
                    raise
                # The refresh token was revoked, expired, or replayed elsewhere.
                self.save(None)
                raise SignInRequired(
                    error.error, "Your sign-in was revoked or has expired."
                ) from error
            self.save(fresh)
            logger.info("tokens refreshed")
            return fresh


def iter_scopes(value: str) -> Iterator[str]:
    """Scope names in a space-separated string, without duplicates, in order."""
    yield from dict.fromkeys(value.split())
