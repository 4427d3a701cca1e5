"""Redis as a cache the server can run without: an outage degrades, never fails.

The cache holds throttle counts and short-lived device-flow state; losing it for a
while means those limits are not enforced, which is better than refusing every
token request. django-redis can ignore connection errors, but then logs each one
(every request) or none; this backend logs the outage once when it starts and once
when it ends, per process.
"""

import logging
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


class CacheOutage:
    """Whether the cache is reachable, as this process last found it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.failed_calls = 0

    def failed(self, error: Exception) -> None:
        with self._lock:
            self.failed_calls += 1
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        cause = error.__cause__ or error
        logger.warning(
            "cache unreachable (%s): serving without it; throttles and device-flow "
            "limits are not enforced until it returns",
            type(cause).__name__,
        )

    def succeeded(self) -> None:
        if self.down_since is None:  # the usual case: no lock taken
            return
        with self._lock:
            if self.down_since is None:
                return
            seconds = time.monotonic() - self.down_since
            failed, self.down_since, self.failed_calls = self.failed_calls, None, 0
        logger.warning(
            "cache reachable again after %.1f s (%d calls failed)", seconds, failed
        )


# Client methods that answer only after a round trip to Redis; others (close,
# make_key, ...) succeed without it and so prove nothing about the connection.
_ROUND_TRIPS = frozenset(
    {
        "get", "set", "add", "get_many", "set_many", "delete", "delete_many",
        "incr", "decr", "has_key", "touch", "ttl", "expire", "persist", "clear",
    }
)  # fmt: skip


# What django-redis's client turns into ConnectionInterrupted (and so this cache
# into a miss); a refused command (ResponseError) included, as there.
_REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, ResponseError, socket.timeout)


# Reads and throttle counters in one EVALSHA: a bearer lookup and the throttle
# counts of its request in one round trip, or the counters alone. Atomic, so a
# counter never lives without its expiry, and measured faster than a pipeline of
# INCR + EXPIRE NX (with or without MULTI); TTL -1 rather than EXPIRE NX, which
# needs Redis 7. ARGV[1] is how many of KEYS are read (MGET); the rest of KEYS
# are counters, with their timeouts from ARGV[2].
_GET_AND_INCR = Script(
    None,
    b"""
    local read = tonumber(ARGV[1])
    local out = {}
    if read > 0 then
        out = redis.call('MGET', unpack(KEYS, 1, read))
    end
    for i = read + 1, #KEYS do
        local count = redis.call('INCR', KEYS[i])
        if count == 1 or redis.call('TTL', KEYS[i]) == -1 then
            redis.call('EXPIRE', KEYS[i], ARGV[i - read + 1])
        end
        out[i] = count
    end
    return out
    """,
)


class _WatchedClient:
    """A django-redis client whose calls report success or failure to `outage`."""

    def __init__(self, client: Any, outage: CacheOutage) -> None:
        self._client = client
        self._outage = outage

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def watched(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attribute(*args, **kwargs)
            except ConnectionInterrupted as error:
                self._outage.failed(error)
                raise
            if name in _ROUND_TRIPS:
                self._outage.succeeded()
            return result

        return watched


class TolerantRedisCache(RedisCache):
    """django-redis's cache that answers as an empty cache while Redis is down.

    Reads miss, writes are dropped, and `add` reports success, so "only once" guards
    (the device flow's poll interval) let requests through rather than refusing
    them. Set SOCKET_CONNECT_TIMEOUT and SOCKET_TIMEOUT in OPTIONS so an unreachable
    host costs a request a bounded wait.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._ignore_exceptions = True
        self._log_ignored_exceptions = False  # CacheOutage logs instead
        self.outage = CacheOutage()

    @property
    def client(self) -> Any:
        return _WatchedClient(super().client, self.outage)

    def add(self, *args: Any, **kwargs: Any) -> bool:
        result = super().add(*args, **kwargs)
        return True if result is None else result  # None: Redis did not answer

    def incr_counters(self, counters: Sequence[tuple[str, int]]) -> list[int] | None:
        """Add one to each (key, timeout) counter in one round trip; answer the
        counts, or None while Redis is unreachable.

        The timeout is in seconds from the counter's creation, as `add` then
        `incr` did in two round trips. Keys take KEY_PREFIX and the version as
        every other call of this cache does.
        """
        return self.get_many_incr([], counters)[1]

    def get_many_incr(
        self, keys: Sequence[str], counters: Sequence[tuple[str, int]]
    ) -> tuple[dict[str, Any], list[int] | None]:
        """`get_many(keys)` and `incr_counters(counters)` in one round trip.

        Answers what `get_many` answers and the counts, or ({}, None) while
        Redis is unreachable (a miss, counters not enforced, as each alone).
        """
        made = [self.make_key(key) for key in keys]
        made += [self.make_key(key) for key, _ in counters]
        args = [len(keys), *(timeout for _, timeout in counters)]
        client = super().client
        try:
            reply = _GET_AND_INCR(keys=made, args=args, client=client.get_client())
        except _REDIS_ERRORS as error:
            self.outage.failed(error)
            return {}, None
        self.outage.succeeded()
        found = {
            key: client.decode(value)
            for key, value in zip(keys, reply, strict=False)
            if value is not None
        }
        return found, reply[len(keys) :]
