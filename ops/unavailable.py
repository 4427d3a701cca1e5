"""A database outage answers 503 with a JSON body, not the HTML page of a 500."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views import defaults

# Seconds a client is asked to wait: a database restart or failover takes a few.
RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: 503 `temporarily_unavailable` when the database is unreachable.

    Django calls this inside its handler of the uncaught exception, so the exception
    is in `sys.exc_info()`. Connection failures (OperationalError: refused,
    terminated by a restart; InterfaceError: a connection already closed) are
    transient; any other error keeps Django's 500 page. Django closes the broken
    connection when the request ends, and the next request opens a new one.
    """
    error = sys.exc_info()[1]
    if not isinstance(error, OperationalError | InterfaceError):
        return defaults.server_error(request)
    response = JsonResponse(
        {
            # RFC 6749 §4.1.2.1's name for "try again later", used by every endpoint.
            "error": "temporarily_unavailable",
            "error_description": "The service is briefly unavailable; try again.",
        },
        status=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
    add_never_cache_headers(response)
    return response
