"""Middleware of the authorization server."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from oauth2_provider.settings import oauth2_settings

from oauth_server import i18n


class CanonicalOriginMiddleware:
    """Absolute URLs are built on the configured issuer, never on the Host header.

    With `OAUTH_ISSUER` set, `request.build_absolute_uri()` (and so DOT's issuer,
    RFC 9207 `iss`, ID tokens, discovery, the device `verification_uri`, RFC 9728
    metadata and challenges, DRF pagination links) uses the issuer's origin: a
    request with `Host: 127.0.0.1:1337` cannot make the server name another origin.
    Without it (development only), URLs follow the request as Django builds them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if issuer := oauth2_settings.OIDC_ISS_ENDPOINT:
            # Django's cached "scheme://host" that build_absolute_uri() prefixes.
            request._current_scheme_host = issuer
        return self.get_response(request)


class ContentLengthMiddleware:
    """A Content-Length that is not a whole number means no body, everywhere.

    Django's WSGIRequest already reads no body for such a header (it sizes its
    input stream as 0), but `request.body` parses the header again with `int()`,
    so every form view answered a 500. gunicorn refuses such requests itself;
    runserver and other servers pass them on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH")
        if length and not length.isdigit():
            request.META["CONTENT_LENGTH"] = "0"
        return self.get_response(request)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's language choice, with the OIDC `ui_locales` of the flow first.

    Django picks the language cookie, then Accept-Language, then LANGUAGE_CODE;
    a supported `ui_locales` (oauth_server/i18n.py) comes before all of them.
    """

    def process_request(self, request: HttpRequest) -> None:
        language = i18n.request_language(request)
        if language is None:
            super().process_request(request)
            return
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
