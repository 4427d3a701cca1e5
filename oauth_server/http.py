"""Response details shared by the endpoints that clients call directly."""

import json

from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauthlib.oauth2.rfc6749 import errors

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


def oauth_error(error: errors.OAuth2Error) -> JsonResponse:
    """An RFC 6749 §5.2 error response."""
    return no_store(JsonResponse(json.loads(error.json), status=error.status_code))


def token_outside_header(request: HttpRequest) -> bool:
    """The request carries `access_token` in its query string or form body.

    RFC 6750 §5.3 and RFC 9700 §4.3.2: bearer tokens travel in the Authorization
    header only; URLs end up in logs, history and Referer headers.
    """
    return "access_token" in request.GET or "access_token" in request.POST


def nul_byte_error(request: HttpRequest) -> errors.InvalidRequestError | None:
    """An error if any parameter or the Authorization header holds a NUL byte.

    No legitimate OAuth value has one, and PostgreSQL refuses them in text columns
    (psycopg 3 raises DataError, which DOT's lookups do not expect).
    """
    values = [request.headers.get("Authorization", "")]
    for params in (request.GET, request.POST):
        for key, items in params.lists():
            values.append(key)
            values.extend(items)
    if any("\x00" in value for value in values):
        return errors.InvalidRequestError(
            description="Parameters must not contain NUL bytes."
        )
    return None


class OAuthEndpointMixin:
    """Keep the token-side endpoints speaking RFC 6749 §5.2 JSON in every case.

    - A body Django refuses to parse (too large, too many fields, a form in another
      charset than UTF-8) would otherwise become Django's HTML 400 page; it is
      `invalid_request` here, and so is a NUL byte anywhere in the parameters.
    - oauthlib's invalid_client carries a Bearer challenge; these endpoints
      authenticate clients with HTTP Basic, so a 401 asks for that.
    - Every response, success or error, is `no-store`.
    - With `bearer_in_header_only`, a caller's bearer token in the query string or
      form body is `invalid_request` (RFC 6750 §5.3): DOT would accept one in a form
      body from a client that authenticates with its own access token.
    """

    bearer_in_header_only = False

    # Overriding dispatch drops the csrf_exempt mark DOT put on its own dispatch;
    # clients authenticate themselves here, there is no browser session to protect.
    @method_decorator(csrf_exempt)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            request.POST  # noqa: B018  parse now, so limits fail here, as JSON
        except (BadRequest, RequestDataTooBig, TooManyFieldsSent) as exc:
            return oauth_error(errors.InvalidRequestError(description=str(exc)))
        if error := nul_byte_error(request):
            return oauth_error(error)
        if self.bearer_in_header_only and token_outside_header(request):
            return oauth_error(errors.InvalidRequestError(description=TOKEN_IN_HEADER))
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 401:
            response["WWW-Authenticate"] = CLIENT_AUTH_CHALLENGE
        return no_store(response)
