"""Request rates per application, per user and for writes, counted in the cache.

Who is counted: a token of an OAuth application counts against that application;
a token acting for a user (or a browser session) against that user as well; only a
request with neither counts against its client address. A client-credentials
service is never limited by the address it shares with others. Unsafe methods on a
view with a `throttle_scope` count against that scope's rate too, per user, else
per application, else per address.

One throttle class checks every rate of a request, so all its counters cost one
cache round trip together (one script on Redis: `INCR` each, with an expiry from
the window's first request), where DRF's one class per rate with a sliding log
reads and writes a list of timestamps per rate. Each counter lives a second longer
than its window. A fixed window lets a client spend up to two windows'
budget across a window boundary; the rates are coarse budgets, not exact
schedules. The counters live in Django's `default` cache, Redis in production, so
every server process counts against the same budget. Rates are looked up per
request (not frozen at import like DRF's class attribute), so
`DEFAULT_THROTTLE_RATES` changes apply at once.

A bearer request's counters ride in the round trip of its token lookup: a token's
application and user never change, so once this process has seen a token on a
view (and method), the next request with it knows its counters before the token
is read (`ApiRateThrottle.ahead`, called by the bearer authentication), and the
cache counts them in the same call as the lookup (`get_many_incr`, Redis only).
Such a request is counted even when it is then refused (a revoked token, a
missing scope), as the address of an anonymous request always was.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from django.core.cache import cache as default_cache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module via its settings
    from django.core.cache.backends.base import BaseCache
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _Check(NamedTuple):
    key: str  # the counter's key, its window included
    limit: int
    duration: int
    window_ends: int


@dataclass
class Ahead:
    """A request's counters known before its token is read, and their counts.

    `counters` are (key, timeout) pairs for the cache; whoever counts them (the
    token lookup) sets `counts`, or leaves it None to let the throttle count.
    """

    now: float
    checks: list[_Check]
    counts: list[int | None] | None = None

    @property
    def counters(self) -> list[tuple[str, int]]:
        return _counters(self.checks)


def _counters(checks: list[_Check]) -> list[tuple[str, int]]:
    """(key, timeout) of each check's counter for the cache. Counted from the
    counter's creation (the window's first request): a second more than the
    window, so no counter outlives it by more."""
    return [(check.key, check.duration + 1) for check in checks]


# (token checksum, method, view class) -> the (scope, ident) pairs its requests
# count against; bounded, oldest first out.
_SEEN_LIMIT = 10_000
_seen: dict[tuple[str, str, type], list[tuple[str, str | int]]] = {}
_seen_lock = threading.Lock()


@functools.lru_cache(maxsize=32)
def _parse_rate(rate: str) -> tuple[int, int]:
    """(requests, seconds) of a DRF rate string such as "100/minute"."""
    return SimpleRateThrottle.parse_rate(None, rate)


def count_in_windows(
    cache: BaseCache, counters: list[tuple[str, int]]
) -> list[int | None]:
    """Add one to each (key, timeout) counter; answer the counts, in order.

    A count is None when the cache did not keep it (Redis unreachable). A cache with
    `incr_counters` (ops.cache.TolerantRedisCache) does all of them in one round
    trip; any other (LocMemCache) one counter at a time.
    """
    incr_counters = getattr(cache, "incr_counters", None)
    if incr_counters is not None:
        counts = incr_counters(counters)
        return [None] * len(counters) if counts is None else counts
    return [_incr_or_add(cache, key, timeout) for key, timeout in counters]


def _incr_or_add(cache: BaseCache, key: str, timeout: int) -> int | None:
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)  # another process added it first


class ApiRateThrottle(BaseThrottle):
    """The application, user (or address) and write rates of a request, together.

    A request over several rates waits for the one whose window ends last.
    """

    cache = default_cache
    timer = time.time
    cache_format = "throttle_%(scope)s_%(ident)s"
    scope_attr = "throttle_scope"

    @classmethod
    def ahead(
        cls, request: Request, view: APIView, token_checksum: str
    ) -> Ahead | None:
        """The counters of a request with this token, if this process knows them."""
        idents = _seen.get((token_checksum, request.method, type(view)))
        if idents is None:
            return None
        now = cls.timer()
        return Ahead(now=now, checks=cls._checks(idents, now))

    def allow_request(self, request: Request, view: APIView) -> bool:
        ahead = getattr(request, "throttle_ahead", None)
        self.now = now = ahead.now if ahead is not None else self.timer()
        self.refused = []
        idents = self.get_idents(request, view)
        checks = self._checks(idents, now)
        self._remember(request, view, idents)
        if not checks:
            return True
        if ahead is not None and ahead.counts is not None and ahead.checks == checks:
            counts = ahead.counts  # counted with the token lookup
        else:
            counts = count_in_windows(self.cache, _counters(checks))
        self.refused = [
            check
            for check, count in zip(checks, counts, strict=True)
            if count is not None and count > check.limit  # None: not enforced
        ]
        return not self.refused

    @classmethod
    def _checks(cls, idents: list[tuple[str, str | int]], now: float) -> list[_Check]:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        checks = []
        for scope, ident in idents:
            rate = rates.get(scope)
            if rate is None:  # no rate for this scope: not limited
                continue
            limit, duration = _parse_rate(rate)
            window = int(now // duration)
            key = f"{cls.cache_format % {'scope': scope, 'ident': ident}}:{window}"
            checks.append(_Check(key, limit, duration, (window + 1) * duration))
        return checks

    @staticmethod
    def _remember(request: Request, view: APIView, idents) -> None:
        """Keep a token's idents for `ahead` (a bearer token's only: an address
        or a session is not known before the request is read)."""
        token_checksum = getattr(request.auth, "token_checksum", None)
        if not token_checksum:
            return
        key = (token_checksum, request.method, type(view))
        if key in _seen:
            return
        with _seen_lock:  # threaded workers: one writer at a time
            if len(_seen) >= _SEEN_LIMIT:
                _seen.pop(next(iter(_seen)), None)
            _seen[key] = idents

    def wait(self) -> float:
        return max(max(c.window_ends for c in self.refused) - self.now, 1)

    def get_idents(
        self, request: Request, view: APIView | None
    ) -> list[tuple[str, str | int]]:
        """(scope, ident) of each rate the request counts against."""
        user = request.user
        user_ident = None
        if user is not None and user.is_authenticated:
            user_ident = f"u{user.pk}"
        application_id = getattr(request.auth, "application_id", None)
        idents = []
        if application_id is not None:  # sessions: the user rate covers them
            idents.append(("application", application_id))
        if user_ident is not None:
            idents.append(("user", user_ident))
        elif request.auth is None:  # a service token is left to its application
            idents.append(("user", self.address_ident(request)))
        write_scope = getattr(view, self.scope_attr, None)
        if write_scope and request.method not in SAFE_METHODS:
            ident = user_ident or application_id or self.address_ident(request)
            idents.append((write_scope, ident))
        return idents

    def address_ident(self, request: Request) -> str:
        return f"ip{self.get_ident(request)}"
