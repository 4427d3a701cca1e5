"""`prompt` and `max_age` of an authorization request (OIDC Core §3.1.2.1).

Parsed the same way for every request, OpenID Connect or plain OAuth: oauthlib only
looks at them when `openid` is among the scopes, and then only at `prompt=none`.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import QueryDict
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid.connect.core import exceptions as oidc_errors

from oauth_server import capabilities

NONE = "none"
LOGIN = "login"
CONSENT = "consent"
SELECT_ACCOUNT = "select_account"

# What we honour, and so what discovery lists as prompt_values_supported.
SUPPORTED = capabilities.PROMPT_VALUES
# Defined by OIDC Core, not offered: there is one account per browser session, so
# nobody can choose between accounts. §3.1.2.1: when the server "cannot obtain an
# account selection choice made by the End-User, it MUST return an error".
REFUSED: dict[str, type[errors.OAuth2Error]] = {
    SELECT_ACCOUNT: oidc_errors.AccountSelectionRequired,
}

MAX_AGE_PATTERN = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Prompt:
    """What an authorization request asks of the sign-in and consent steps."""

    values: frozenset[str] = frozenset()
    max_age: int | None = None

    @property
    def silent(self) -> bool:
        """`prompt=none`: never show a page, answer or fail at once."""
        return NONE in self.values

    @property
    def fresh_login(self) -> bool:
        """`prompt=login`, or `max_age=0` (which OIDC Core equates with it)."""
        return LOGIN in self.values or self.max_age == 0

    @property
    def consent_page(self) -> bool:
        """`prompt=consent`: show the consent page even when consent is on record."""
        return CONSENT in self.values

    def login_is_stale(self, auth_time: int | None, now: int) -> bool:
        """Whether the session's sign-in at `auth_time` is older than `max_age` allows."""
        if self.max_age is None:
            return False
        return auth_time is None or now - auth_time > self.max_age


def single(query: QueryDict, name: str) -> str | None:
    """The one value of `name`; sent twice, it is invalid (RFC 6749 §3.1)."""
    values = query.getlist(name)
    if len(values) > 1:
        raise errors.InvalidRequestError(description=f"Duplicate {name} parameter.")
    return values[0] if values else None


def parse(query: QueryDict) -> Prompt:
    """The request's `prompt` and `max_age`; `InvalidRequestError` if malformed."""
    values = (single(query, "prompt") or "").split(" ")
    prompt = frozenset(value for value in values if value)
    if prompt - set(SUPPORTED) - set(REFUSED):
        raise errors.InvalidRequestError(
            description=f"Unsupported prompt value; supported: {', '.join(SUPPORTED)}."
        )
    if NONE in prompt and len(prompt) > 1:
        raise errors.InvalidRequestError(
            description="prompt=none cannot be combined with other prompt values."
        )
    max_age = single(query, "max_age")
    if max_age is None:
        return Prompt(values=prompt)
    try:
        if not MAX_AGE_PATTERN.fullmatch(max_age):
            raise ValueError(max_age)
        seconds = int(max_age)  # ValueError past Python's 4,300-digit limit too
    except ValueError:
        raise errors.InvalidRequestError(
            description="max_age must be a number of seconds (0 or more)."
        ) from None
    return Prompt(values=prompt, max_age=seconds)


def refused_value(prompt: Prompt) -> type[errors.OAuth2Error] | None:
    """The error for a prompt value we know but do not offer, if one was asked."""
    for value, error in REFUSED.items():
        if value in prompt.values:
            return error
    return None


def after_sign_in(full_path: str) -> str:
    """The authorization URL to return to after signing in for this request.

    Without `login` in `prompt` and without `max_age`: the sign-in just made
    satisfies both, and keeping them would send the user back to the login page
    forever. (The ID token's `auth_time` tells the client when it happened.)
    """
    parts = urlsplit(full_path)
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "max_age":
            continue
        if key == "prompt":
            value = " ".join(v for v in value.split(" ") if v and v != LOGIN)
            if not value:
                continue
        query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))
