"""Bearer authentication with RFC 6750 / RFC 9728 challenges."""

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.utils.encoding import escape_uri_path
from oauth2_provider.contrib.rest_framework.authentication import (
    OAuth2ProtectedResourceAuthentication,
)
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import INVALID_HEX_PATTERN
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request

from resources.exceptions import PayloadTooLarge, TokenOutsideHeader
from resources.throttling import Ahead, ApiRateThrottle


@dataclass
class LookupAhead:
    """What the token lookup's cache call does besides: count the request's
    throttle counters (when known ahead) and read keys the view will need.

    The shared cache answers all of it in the lookup's one round trip and sets
    `counts` and `found`; any other leaves them None (each is then done alone).
    """

    counters: list[tuple[str, int]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    counts: list[int | None] | None = None
    found: dict[str, object] | None = None


@dataclass
class BearerCheck:
    """What DOT's `validate_bearer_token` reads (`uri`, `ahead`) and writes (the
    rest); `ahead` reaches the token lookup through our validator."""

    uri: str
    ahead: LookupAhead | None = None
    scopes: list[str] = field(default_factory=list)
    user: object = None
    client: object = None
    access_token: object = None
    oauth2_error: dict[str, str] = field(default_factory=dict)


def token_from_header(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>`, split as oauthlib splits it."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return None


def verify_bearer(request: Request, *, ahead: LookupAhead | None = None) -> BearerCheck:
    """DOT's bearer check without the oauthlib request DOT builds around it.

    `OAuthLibCore.verify_request` copies the headers, encodes the body and builds
    an oauthlib request and a server with every grant type, only for oauthlib to
    take the token from the header and hand it to the validator's
    `validate_bearer_token`. Served from the token cache, that scaffolding cost
    more than the check itself. Here the same validator method (DOT's setting
    `OAUTH2_VALIDATOR_CLASS`) gets the same inputs: the token from the header
    (RFC 6750 §2.1; `authenticate` refuses the other transports first) and the
    absolute request URI for the audience check (RFC 8707). As with oauthlib, a
    query string with a malformed percent escape is refused (a 400).
    """
    query = request.META.get("QUERY_STRING", "")
    if query and INVALID_HEX_PATTERN.search(query):
        raise SuspiciousOperation("Invalid hex encoding in query string.")
    checked = BearerCheck(
        uri=request.build_absolute_uri(escape_uri_path(request.path)),
        ahead=ahead,
    )
    token = token_from_header(request)
    if token is not None:
        validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
        if not validator.validate_bearer_token(token, [], checked):
            checked.access_token = None
    return checked


class BearerTokenAuthentication(OAuth2ProtectedResourceAuthentication):
    """DOT's bearer authentication; the 401 challenge names our metadata document.

    Access tokens from the authorization server and personal access tokens share
    this path: both are DOT access tokens, stored hashed and checked for expiry.
    Every 401 names `error="invalid_token"`, with or without a token sent: the
    product asks clients to treat both alike (get a token, then retry). RFC 6750
    §3.1 only recommends leaving the code out when no credentials came.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request: Request):
        # Every parser (XML too, which DRF streams) gets the same body limit that
        # Django applies to form and JSON bodies; refuse before reading anything.
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge()
        # DOT's ACCESS_TOKEN_TRANSPORT gate only ignores a token in the query string
        # (a bare 401); a form-encoded body's token would still be accepted.
        if "access_token" in request.query_params or "access_token" in request.POST:
            request.oauth2_error = {
                "error": "invalid_request",
                "error_description": TokenOutsideHeader.default_detail,
            }
            raise TokenOutsideHeader(self.authenticate_header(request))
        throttle, ahead = self.lookup_ahead(request)
        checked = verify_bearer(request, ahead=ahead)
        if ahead is not None:
            if throttle is not None:
                throttle.counts = ahead.counts
            request.throttle_ahead = throttle
            request.cache_ahead = ahead.found or {}
        if checked.access_token is not None:
            return checked.user, checked.access_token
        request.oauth2_error = checked.oauth2_error
        return None

    @staticmethod
    def lookup_ahead(request: Request) -> tuple[Ahead | None, LookupAhead | None]:
        """The throttle counters known before the token is read, and the cache
        keys the view reads on every request (`cache_reads_ahead`), for the token
        lookup's round trip."""
        token = token_from_header(request)
        view = (request.parser_context or {}).get("view")
        if token is None or view is None:
            return None, None
        throttle = None
        if ApiRateThrottle in getattr(view, "throttle_classes", ()):
            # The checksum DOT stores a token under (`token_checksum`).
            digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
            throttle = ApiRateThrottle.ahead(request, view, digest)
        reads = list(getattr(view, "cache_reads_ahead", ()))
        if throttle is None and not reads:
            return None, None
        counters = throttle.counters if throttle is not None else []
        return throttle, LookupAhead(counters=counters, reads=reads)

    def authenticate_header(self, request: Request) -> str:
        if not getattr(request, "oauth2_error", None):  # no token was sent at all
            request.oauth2_error = {
                "error": "invalid_token",
                "error_description": "An access token is required.",
            }
        return super().authenticate_header(request)


class BrowsableAPISessionAuthentication(SessionAuthentication):
    """The signed-in browser session, for the browsable API (HTML) only.

    API calls that ask for JSON or XML must bring a bearer token: a session cookie is
    ambient authority that third-party pages could ride on, and the API's contract is
    OAuth. DRF negotiates the renderer before it authenticates, so the choice is known.
    """

    def authenticate(self, request: Request):
        if not isinstance(
            getattr(request, "accepted_renderer", None), BrowsableAPIRenderer
        ):
            return None
        return super().authenticate(request)
