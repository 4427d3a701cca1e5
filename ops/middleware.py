"""Health endpoints and the per-request log line, as middleware.

Both sit at the top of `MIDDLEWARE` (config/settings.py). The health endpoints
answer before Django checks the Host header, redirects to https, or touches the
session or CSRF cookie: load balancers probe each instance over plain http by its
address. They are not routed through DRF, so no throttle counts them.
"""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty

from oauth_server.log_filters import redact
from oauth_server.net import client_address
from ops import health
from ops.log import request_id

logger = logging.getLogger("ops.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming X-Request-ID (from the proxy) is kept only if it is a plain token.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
HEALTH_PATHS = ("/healthz", "/readyz")


class HealthCheckMiddleware:
    """`/healthz`: the process serves requests. `/readyz`: it can do its work.

    `/healthz` does no I/O at all. `/readyz` checks the database (one trivial
    query), the cache (one read) and that no migration is pending (once per
    process, then remembered), and answers 503 naming what failed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in HEALTH_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"error": "method_not_allowed"}, status=405)
            response["Allow"] = "GET, HEAD"
        elif request.path_info == "/healthz":
            response = JsonResponse({"status": "ok"})
        else:
            checks = health.readiness()
            ready = all(result == "ok" for result in checks.values())
            response = JsonResponse(
                {"status": "ok" if ready else "unavailable", "checks": checks},
                status=200 if ready else 503,
            )
        add_never_cache_headers(response)  # Cache-Control: no-store among others
        return response


class RequestLogMiddleware:
    """One log line per request, and its id on every log line and in the response.

    The id is the proxy's `X-Request-ID` when that is a plain token, else a new one.
    The line names the method, the path without its query string (redacted like
    any message), the status, the duration, the client address as
    `oauth_server.net.client_address` decides it, and the OAuth client and user
    when the request already knew them: it never queries for them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = rid
            if request.path_info not in HEALTH_PATHS:  # probes every few seconds: noise
                self.log(request, response, time.monotonic() - started)
            return response
        finally:
            request_id.reset(token)

    def log(self, request: HttpRequest, response: HttpResponse, seconds: float) -> None:
        path = redact(request.path)
        logger.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "client_address": client_address(request) or None,
                "client_id": _client_id(request),
                "user_id": _user_id(request),
            },
        )


def _client_id(request: HttpRequest) -> str | None:
    """The OAuth client of the request's access token, if it is already loaded."""
    # DRF sets `auth` on the Django request too; DOT loads the token with its
    # application (select_related), so reading it costs no query.
    token = getattr(request, "auth", None)
    application = _loaded(token, "application")
    return getattr(application, "client_id", None)


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in or token user's id, if the request already looked it up."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        # Unevaluated: nothing asked for the session's user, so we don't either.
        user = None if user._wrapped is empty else user._wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def _loaded(instance: object, field: str) -> object | None:
    """`instance.field` if that relation is already in memory, else None."""
    state = getattr(instance, "_state", None)
    if state is None:
        return None
    return state.fields_cache.get(field)
