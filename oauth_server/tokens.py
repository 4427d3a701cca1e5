"""Whether a token may be honoured: the one answer every endpoint asks for.

The resource API and userinfo (through the validator's bearer check), introspection
and the refresh grant all call `token_is_live`, so a token never counts as live in one
place and dead in another.
"""

import hashlib
import secrets
from datetime import datetime

from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractRefreshToken,
    refresh_token_expire_timedelta,
)


def generate(request: object = None, refresh_token: bool = False) -> str:
    """A new access or refresh token (DOT's ACCESS_TOKEN_GENERATOR).

    32 bytes from the OS's generator, URL-safe base64: 43 characters, 256 bits.
    oauthlib's default draws 30 characters one at a time through SystemRandom
    (178 bits), a system call and a rejection loop per character.
    """
    return secrets.token_urlsafe(32)


def checksum(value: str) -> str:
    """SHA-256 hex digest: the form tokens (and our code records) are stored in."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def refresh_token_expires(token: AbstractRefreshToken) -> datetime | None:
    """When a refresh token stops working: its access token's expiry plus the refresh
    lifetime, as DOT's refresh grant and `cleartokens` count it (None: never).
    """
    delta = refresh_token_expire_timedelta()
    if token.access_token is None or delta is None:
        return None
    return token.access_token.expires + delta


def token_is_live(
    token: AbstractAccessToken | AbstractRefreshToken, *, now: datetime | None = None
) -> bool:
    """Not expired, not revoked, and its application and user still active.

    Revoking an access token deletes it, so a row that exists is not revoked; a
    refresh token is revoked by stamping `revoked`, and dies with its access token.
    Deactivating an application or a user takes effect on every token at once.
    """
    now = now or timezone.now()
    if isinstance(token, AbstractRefreshToken):
        if token.revoked is not None or token.access_token is None:
            return False
        expires = refresh_token_expires(token)
        if expires is not None and expires <= now:
            return False
    elif token.expires is None or token.expires <= now:
        return False
    application = token.application
    # DOT's own hook for "may this client act now"; ours ignores the request.
    if application is not None and not application.is_usable(None):
        return False
    user = token.user
    return user is None or user.is_active
