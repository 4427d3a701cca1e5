"""Response details shared by the endpoints that clients call directly."""

import base64
import binascii
import json
import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from oauthlib.oauth2.rfc6749 import errors

from oauth_server import capabilities

CLIENT_AUTH_CHALLENGE = 'Basic realm="Bookshelf", charset="UTF-8"'
TOKEN_IN_HEADER = (
    "Send the access token in the Authorization header (Bearer), not in the URL or "
    "the request body."
)


def no_store(response: HttpResponse) -> HttpResponse:
    """Keep a response out of every cache: it carries or answers for a credential.

    RFC 6749 §5.1 (tokens), RFC 7662 §4 (introspection), OIDC Core §5.3.2 (userinfo
    follows the same rule); `Pragma` for HTTP/1.0 caches.
    """
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


MALFORMED_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")

# What Django raises when it cannot or will not parse a query string or body.
UNPARSEABLE_REQUEST = (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    MultiPartParserError,
    BadRequest,
)


def oauth_error(error: errors.OAuth2Error) -> JsonResponse:
    """An RFC 6749 §5.2 error response."""
    return no_store(JsonResponse(json.loads(error.json), status=error.status_code))


def token_outside_header(request: HttpRequest) -> bool:
    """The request carries `access_token` in its query string or form body.

    RFC 6750 §5.3 and RFC 9700 §4.3.2: bearer tokens travel in the Authorization
    header only; URLs end up in logs, history and Referer headers.
    """
    return "access_token" in request.GET or "access_token" in request.POST


def authorization_header(request: HttpRequest) -> str:
    """The `Authorization` header of a Django request, or of an oauthlib one.

    Read from META on a Django request: `request.headers` would parse every
    header of the request to answer for one.
    """
    meta = getattr(request, "META", None)  # oauthlib's request has none
    if meta is None:
        return request.headers.get("Authorization", "")
    return meta.get("HTTP_AUTHORIZATION", "")


def basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """The client id and secret of an HTTP Basic `Authorization` header, or None.

    Decoded as DOT decodes them: base64 of `id:secret`, each form-urlencoded first
    (RFC 6749 §2.3.1). Raises ValueError, saying what is wrong, when the header
    names the Basic scheme but does not hold such credentials, or holds a NUL byte.
    """
    scheme, _, value = authorization_header(request).partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("HTTP Basic credentials must be base64 of UTF-8.") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise ValueError("HTTP Basic credentials must be client_id:client_secret.")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if "\x00" in client_id or "\x00" in secret:
        # Also after percent-decoding: DOT looks the decoded id up in the database.
        raise ValueError("HTTP Basic credentials must not contain NUL bytes.")
    return client_id, secret


def request_error(
    request: HttpRequest, *, client_auth: bool = True
) -> errors.OAuth2Error | None:
    """Why the request cannot be processed at all, as an RFC 6749 §5.2 error.

    - A query string or body Django refuses to parse (too large, too many fields,
      broken multipart, a form body not in UTF-8) would otherwise become Django's
      HTML 400 page, and a query string with a malformed %-escape a 500 from
      oauthlib: it is `invalid_request`.
    - A NUL byte in any parameter or the Authorization header is
      `invalid_request`: no legitimate OAuth value has one, and PostgreSQL refuses them in text columns (psycopg 3 raises
      DataError, which DOT's lookups do not expect).
    - With `client_auth`, a Basic header that does not decode, or whose decoded
      client id or secret holds a NUL byte, is `invalid_client` (RFC 6749 §5.2:
      authentication through the Authorization header failed).
    """
    try:
        values = [authorization_header(request)] + [
            value
            for params in (request.GET, request.POST)
            for key, items in params.lists()
            for value in (key, *items)
        ]
    except UNPARSEABLE_REQUEST as exc:
        return errors.InvalidRequestError(
            description=f"The request cannot be parsed: {exc}"
        )
    if MALFORMED_PERCENT.search(request.META.get("QUERY_STRING", "")):
        # oauthlib refuses such a query string with a ValueError (a 500 here).
        return errors.InvalidRequestError(
            description="The query string has a malformed %-escape (RFC 3986 §2.1)."
        )
    if any("\x00" in value for value in values):
        return errors.InvalidRequestError(
            description="Parameters must not contain NUL bytes."
        )
    if client_auth:
        try:
            basic_credentials(request)
        except ValueError as exc:
            return errors.InvalidClientError(description=str(exc))
    return None


# What an error means, for oauthlib errors raised without a description (RFC 6749
# §5.2 and §4.1.2.1: `error_description` helps the client developer).
DEFAULT_DESCRIPTIONS = {
    "invalid_request": "The request is missing a parameter or has a malformed one.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": (
        "The authorization code, refresh token or device code is invalid, "
        "expired, revoked or was issued to another client."
    ),
    "unauthorized_client": "This client is not registered for this grant type.",
    "unsupported_grant_type": (
        f"grant_type must be one of: {', '.join(capabilities.GRANT_TYPES)}."
    ),
    "invalid_scope": "The requested scope is unknown, or wider than allowed.",
    "unsupported_response_type": (
        f"response_type must be one of: {', '.join(capabilities.RESPONSE_TYPES)}."
    ),
    "access_denied": "The user or the server denied the request.",
    "unsupported_token_type": (
        "token_type_hint must be access_token or refresh_token (RFC 7009 §2.2.1)."
    ),
    # RFC 8628 §3.5: answers to a device polling the token endpoint.
    "authorization_pending": (
        "The user has not approved this device yet; poll again after `interval` "
        "seconds."
    ),
    "slow_down": "Polling too fast: add 5 seconds to the polling interval.",
    "expired_token": (
        "The device code has expired; start again at the device authorization endpoint."
    ),
    "invalid_token": "The access token is invalid, expired or revoked.",
    "invalid_target": "The resource is unknown or not allowed (RFC 8707 §2).",
    "insufficient_scope": "The access token lacks the scope this request needs.",
    "server_error": "The server could not complete the request.",
    "temporarily_unavailable": "The server is temporarily unavailable; retry later.",
}


def error_description(error: str) -> str:
    """A description of an RFC 6749 error code, for errors raised without one."""
    return DEFAULT_DESCRIPTIONS.get(error, f"The request was refused: {error}.")


def with_error_description(response: HttpResponse) -> HttpResponse:
    """`response`, with an `error_description` if it is a JSON error without one."""
    if response.status_code < 400 or "json" not in response.get("Content-Type", ""):
        return response
    try:
        body = json.loads(response.content)
    except ValueError:
        return response
    if not isinstance(body, dict) or "error" not in body:
        return response
    if body.get("error_description"):
        return response
    body["error_description"] = error_description(body["error"])
    response.content = json.dumps(body).encode()
    return response


def with_json_content_type(response: HttpResponse) -> HttpResponse:
    """`response`, labelled JSON when it is an error whose body is JSON.

    DOT turns oauthlib errors raised before a grant handles them (query parameters
    on a POST, an unsupported method) into responses without a Content-Type, so
    Django labels their JSON bodies text/html.
    """
    if response.status_code < 400 or "json" in response.get("Content-Type", ""):
        return response
    try:
        json.loads(response.content)
    except ValueError:
        return response
    response["Content-Type"] = "application/json"
    return response


def csrf_exempt_dispatch(dispatch: Callable) -> Callable:
    """A view class's `dispatch`, marked CSRF-exempt for `as_view()` to copy.

    The mark is all `method_decorator(csrf_exempt)` leaves on the view; it would
    also wrap every call in two more layers, built anew on each request.
    """
    dispatch.csrf_exempt = True
    return dispatch


class NonAtomicViewMixin:
    """The view out of ATOMIC_REQUESTS, marked once on what `as_view()` returns.

    `method_decorator(transaction.non_atomic_requests, name="dispatch")` leaves
    the same mark but wraps every call in two more layers, built anew each time.
    """

    @classmethod
    def as_view(cls, **initkwargs) -> Callable:
        return transaction.non_atomic_requests(super().as_view(**initkwargs))


class JSONEndpointMixin:
    """Endpoints that clients (not browsers) call answer every error as JSON.

    - An unparseable request (too large, too many fields, broken multipart, a form
      in another charset than UTF-8), a NUL byte or an unsupported method gets an
      RFC 6749 §5.2 error instead of Django's HTML page, and error bodies DOT
      leaves unlabelled are labelled JSON.
    - With `bearer_in_header_only`, a caller's bearer token in the query string or
      form body is `invalid_request` (RFC 6750 §5.3): DOT would accept one in a form
      body from a client that authenticates with its own access token.
    """

    client_auth = False  # whether clients authenticate here with HTTP Basic
    bearer_in_header_only = False

    # Overriding dispatch drops the csrf_exempt mark DOT put on its own dispatch;
    # clients authenticate themselves here, there is no browser session to protect.
    @csrf_exempt_dispatch
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if error := request_error(request, client_auth=self.client_auth):
            return oauth_error(error)
        if self.bearer_in_header_only and token_outside_header(request):
            return self.token_outside_header_response()
        response = super().dispatch(request, *args, **kwargs)
        return with_error_description(with_json_content_type(response))

    def token_outside_header_response(self) -> HttpResponse:
        return oauth_error(errors.InvalidRequestError(description=TOKEN_IN_HEADER))

    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs):
        allowed = ", ".join(self._allowed_methods())
        response = oauth_error(
            errors.InvalidRequestError(
                description=f"{request.method} is not allowed here; use {allowed}."
            )
        )
        response.status_code = 405
        response["Allow"] = allowed
        return response


class OAuthEndpointMixin(JSONEndpointMixin):
    """Keep the token-side endpoints speaking RFC 6749 §5.2 JSON in every case.

    Besides what `JSONEndpointMixin` does: malformed Basic credentials are
    `invalid_client`; since these endpoints authenticate clients with HTTP Basic, a
    401 asks for that (oauthlib's invalid_client carries a Bearer challenge); and
    every response, success or error, is `no-store`.
    """

    client_auth = True

    @csrf_exempt_dispatch  # as above: as_view() reads the outermost dispatch
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 401:
            response["WWW-Authenticate"] = CLIENT_AUTH_CHALLENGE
        return no_store(response)
