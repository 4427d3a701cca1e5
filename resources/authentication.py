"""Bearer authentication with RFC 6750 / RFC 9728 challenges."""

from django.conf import settings
from oauth2_provider.contrib.rest_framework.authentication import (
    OAuth2ProtectedResourceAuthentication,
)
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request

from resources.exceptions import PayloadTooLarge, TokenOutsideHeader


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
        return super().authenticate(request)

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
