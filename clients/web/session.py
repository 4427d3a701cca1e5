"""The web client's per-process OAuth client and the tokens in a user's session.

Tokens live only in the server-side session store, never in a cookie or a page.
"""

import functools
import hashlib
import threading
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest

from clients.api import BooksAPI
from clients.oauth import OAuthClient
from clients.tokens import TokenKeeper, Tokens

TOKENS = "tokens"
USER = "user"
PENDING = "authorization_request"
FLASH = "flash"

# Striped locks: one refresh at a time per session within this process.
_LOCKS = [threading.Lock() for _ in range(64)]


@functools.cache
def oauth_client() -> OAuthClient:
    """One client per process, so discovery and JWKS are fetched once."""
    config = settings.BOOKSHELF_CLIENT
    return OAuthClient(
        issuer=config.issuer,
        client_id=config.client_id,
        client_secret=config.client_secret,
        timeout=config.timeout,
    )


def books_api(access_token: str) -> BooksAPI:
    """The resource API, called with `access_token`."""
    config = settings.BOOKSHELF_CLIENT
    return BooksAPI(config.api_base, access_token, timeout=config.timeout)


def stored_tokens(request: HttpRequest) -> Tokens | None:
    """The tokens in this request's session, if any."""
    data = request.session.get(TOKENS)
    return Tokens.from_dict(data) if data else None


def store_tokens(request: HttpRequest, tokens: Tokens | None) -> None:
    """Keep `tokens` (None: forget them and the user) and save at once."""
    if tokens is None:
        request.session.pop(TOKENS, None)
        request.session.pop(USER, None)
    else:
        request.session[TOKENS] = tokens.to_dict()
    # Saved now, not at the end of the request: a concurrent request waiting on
    # the lock must see the rotated refresh token, not spend the old one.
    request.session.save()


def keeper(request: HttpRequest) -> TokenKeeper:
    """A `TokenKeeper` over this request's session."""
    session = request.session

    def reload() -> Tokens | None:
        if not session.session_key:
            return stored_tokens(request)
        fresh = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
        data = fresh.get(TOKENS)
        return Tokens.from_dict(data) if data else None

    def lock() -> threading.Lock:
        key = (session.session_key or "").encode()
        return _LOCKS[hashlib.sha256(key).digest()[0] % len(_LOCKS)]

    return TokenKeeper(
        oauth_client(),
        load=lambda: stored_tokens(request),
        save=lambda tokens: store_tokens(request, tokens),
        reload=reload,
        lock=lock,
    )
