"""Response details shared by the endpoints that clients call directly."""

import json

from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauthlib.oauth2.rfc6749 import errors

CLIENT_AUTH_CHALLENGE = 'Basic realm="Bookshelf", charset="UTF-8"'


def oauth_error(error: errors.OAuth2Error) -> JsonResponse:
    """An RFC 6749 §5.2 error response."""
    return JsonResponse(
        json.loads(error.json),
        status=error.status_code,
        headers={"Cache-Control": "no-store"},
    )


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
    """

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
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 401:
            response["WWW-Authenticate"] = CLIENT_AUTH_CHALLENGE
            response["Cache-Control"] = "no-store"
        return response
