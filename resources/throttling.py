"""Request rates per application, per user and for writes, counted in the cache.

Who is counted: a token of an OAuth application counts against that application;
a token acting for a user (or a browser session) against that user as well; only a
request with neither counts against its client address. A client-credentials
service is never limited by the address it shares with others.

Each check is one cache round trip: a counter per fixed window (`INCR`; the
window's first request adds it), where DRF's sliding log reads and writes a list
of timestamps. A fixed window lets a client spend up to two windows' budget across
a window boundary; the rates are coarse budgets, not exact schedules. The counters
live in Django's `default` cache, Redis in production, so every server process
counts against the same budget. Rates are looked up per request (not frozen at
import like DRF's class attribute), so `DEFAULT_THROTTLE_RATES` changes apply at
once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module via its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _WindowCounterMixin:
    """DRF's rate parsing and keys, counted per fixed window in one round trip."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        try:
            count = self.cache.incr(key)
        except ValueError:  # the window's first request
            if self.cache.add(key, 1, timeout=self.duration + 1):
                count = 1
            else:  # another process added it first
                count = self.cache.incr(key)
        if count is None:  # the cache is unreachable and answers nothing: not enforced
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends - self.now, 1)

    def user_key(self, request: Request) -> str | None:
        """This scope's key for the request's user (None without one)."""
        user = request.user
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"u{user.pk}"}

    def address_key(self, request: Request) -> str:
        ident = f"ip{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def application_key(self, request: Request) -> str | None:
        application_id = getattr(request.auth, "application_id", None)
        if application_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": application_id}


class ApplicationRateThrottle(_WindowCounterMixin, SimpleRateThrottle):
    """All requests made with tokens of one OAuth application share one rate."""

    scope = "application"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.application_key(request)  # sessions: the user rate covers them


class UserRateThrottle(_WindowCounterMixin, SimpleRateThrottle):
    """Each user has one rate; requests with neither user nor token, each address.

    A client-credentials token (no user) is left to the application rate.
    """

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if key := self.user_key(request):
            return key
        if request.auth is not None:
            return None
        return self.address_key(request)


class WriteRateThrottle(_WindowCounterMixin, SimpleRateThrottle):
    """Unsafe methods on views with a `throttle_scope` get that scope's rate,
    counted per user, else per application, else per client address."""

    scope_attr = "throttle_scope"

    def __init__(self) -> None:
        pass  # the scope, and so the rate, is known once a view calls (as DRF's)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return (
            self.user_key(request)
            or self.application_key(request)
            or self.address_key(request)
        )
