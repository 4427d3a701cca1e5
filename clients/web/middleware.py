"""One place that turns client-side failures into clear pages, never a 500."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from clients.errors import (
    ApiError,
    InsufficientScope,
    OAuthError,
    ServerUnreachable,
    SignInRequired,
)
from clients.web.session import store_tokens

logger = logging.getLogger(__name__)


def error_page(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    message: str,
    action: tuple[str, str] | None = None,
) -> HttpResponse:
    """A page that says what happened and what to do next."""
    href, label = action or (reverse("home"), "Back to Marginalia")
    context = {"title": title, "message": message, "href": href, "label": label}
    return render(request, "web/error.html", context, status=status)


class ErrorPageMiddleware:
    """Maps the exceptions of `clients.errors` to error pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        sign_in = (reverse("login"), "Sign in again")
        if isinstance(exception, ServerUnreachable):
            logger.warning("server unreachable: %s", exception.url)
            return error_page(
                request,
                status=503,
                title="The service is unreachable",
                message=f"{exception.description} Please try again in a moment.",
                action=(request.path, "Try again"),
            )
        if isinstance(exception, SignInRequired):
            store_tokens(request, None)
            return error_page(
                request,
                status=401,
                title="Your sign-in has ended",
                message=(
                    f"{exception.description} This happens when access is withdrawn "
                    "at the account server or after a long time away."
                ),
                action=sign_in,
            )
        if isinstance(exception, InsufficientScope):
            return error_page(
                request,
                status=403,
                title="Marginalia needs more access",
                message=f"This needs the permission {exception.scope or 'it lacks'}.",
                action=sign_in,
            )
        if isinstance(exception, ApiError):
            return error_page(
                request,
                status=502 if exception.status is None else max(exception.status, 400),
                title="The catalogue could not do that",
                message=exception.description,
            )
        if isinstance(exception, OAuthError):
            logger.warning("oauth error: %s", exception.error)
            return error_page(
                request,
                status=502,
                title="The account server refused the request",
                message=str(exception),
                action=sign_in,
            )
        return None
