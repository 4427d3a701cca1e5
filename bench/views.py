"""Benchmark-only views: the floor and the book list without authentication."""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import AllowAny

from resources.views import BookViewSet


@transaction.non_atomic_requests
def floor(request: HttpRequest) -> HttpResponse:
    """The cheapest Django response: what every other figure is compared with.

    Outside ATOMIC_REQUESTS: on SQLite its BEGIN IMMEDIATE would take the write
    lock for a view that reads nothing.
    """
    return HttpResponse(b"ok", content_type="text/plain")


class OpenBookViewSet(BookViewSet):
    """The book list as the API serves it, minus authentication, scopes, throttles."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
