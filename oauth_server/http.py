"""Response details shared by the token-side endpoints."""

from django.http import HttpRequest, HttpResponse

CLIENT_AUTH_CHALLENGE = 'Basic realm="Bookshelf", charset="UTF-8"'


class ClientAuthChallengeMixin:
    """401 answers challenge for HTTP Basic client authentication (RFC 6749 §5.2).

    oauthlib's invalid_client carries a Bearer challenge; the token, revocation and
    device endpoints authenticate clients with Basic, so that is what they must ask for.
    """

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 401:
            response["WWW-Authenticate"] = CLIENT_AUTH_CHALLENGE
            response["Cache-Control"] = "no-store"
        return response
