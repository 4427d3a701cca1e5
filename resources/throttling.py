"""Request rates per application, per user and for writes, counted in the cache.

DRF's throttles keep their history in Django's `default` cache, which is Redis in
production, so every server process counts against the same budget. Rates are
looked up per request (not frozen at import like DRF's class attribute), so
`DEFAULT_THROTTLE_RATES` changes in settings apply at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module via its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _LiveRatesMixin:
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def user_or_address_key(self, request: Request) -> str:
        """The cache key of this scope for the request's user, else its address."""
        user = request.user
        if user is not None and user.is_authenticated:
            ident = f"u{user.pk}"
        else:
            ident = f"ip{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApplicationRateThrottle(_LiveRatesMixin, SimpleRateThrottle):
    """All requests made with tokens of one OAuth application share one rate."""

    scope = "application"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        application_id = getattr(request.auth, "application_id", None)
        if application_id is None:
            return None  # session users are covered by the user rate
        return self.cache_format % {"scope": self.scope, "ident": application_id}


class UserRateThrottle(_LiveRatesMixin, SimpleRateThrottle):
    """Each user (or, without one, each client address) has one rate."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.user_or_address_key(request)


class WriteRateThrottle(_LiveRatesMixin, ScopedRateThrottle):
    """Unsafe methods on views with a `throttle_scope` get that scope's rate,
    counted per user (or client address)."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.user_or_address_key(request)
