"""Redis down: the cache answers as an empty cache and logs the outage once."""

import logging

import pytest

from ops.cache import CacheOutage, TolerantRedisCache

# Nothing listens on port 1: every call is refused at once.
UNREACHABLE = "redis://127.0.0.1:1/0"
# The shared Redis of CI and development; db 15 is this test's own.
REACHABLE = "redis://127.0.0.1:6379/15"
OPTIONS = {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}


def tolerant_cache(location: str) -> TolerantRedisCache:
    return TolerantRedisCache(
        location, {"KEY_PREFIX": "test-cache-outage", "OPTIONS": OPTIONS}
    )


def outage_records(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ops.cache"]


def test_unreachable_redis_is_an_empty_cache(caplog):
    """Reads miss, writes are dropped, add lets the caller through."""
    cache = tolerant_cache(UNREACHABLE)
    caplog.set_level(logging.WARNING, logger="ops.cache")
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    cache.set("k", 1)
    assert cache.add("k", 1) is True
    assert cache.incr("k") is None
    messages = outage_records(caplog)
    assert len(messages) == 1
    assert messages[0].startswith("cache unreachable (ConnectionError)")


@pytest.mark.parametrize("calls", [1, 20])
def test_outage_is_logged_once_and_so_is_recovery(caplog, calls):
    """However many calls fail, one line when it starts and one when it ends."""
    caplog.set_level(logging.WARNING, logger="ops.cache")
    outage = CacheOutage()
    for _ in range(calls):
        outage.failed(ConnectionError("refused"))
    outage.succeeded()
    outage.succeeded()
    messages = outage_records(caplog)
    assert len(messages) == 2
    assert messages[1].startswith("cache reachable again after ")
    assert messages[1].endswith(f"({calls} calls failed)")


def test_reachable_redis_works_and_logs_nothing(caplog):
    """With Redis up the backend is django-redis's cache."""
    cache = tolerant_cache(REACHABLE)
    caplog.set_level(logging.WARNING, logger="ops.cache")
    try:
        cache.set("k", {"n": 1})
        assert cache.get("k") == {"n": 1}
        assert cache.add("k", 2) is False
    finally:
        cache.delete("k")
    assert outage_records(caplog) == []


def test_calls_without_a_round_trip_do_not_end_an_outage(caplog):
    """Closing the connection (Django does after each request) proves nothing."""
    cache = tolerant_cache(UNREACHABLE)
    caplog.set_level(logging.WARNING, logger="ops.cache")
    for _ in range(3):
        cache.get("k")
        cache.close()
    assert len(outage_records(caplog)) == 1


def test_throttle_counters_while_unreachable(caplog):
    """The throttles' counters: not kept (None, so not enforced), outage logged once."""
    cache = tolerant_cache(UNREACHABLE)
    caplog.set_level(logging.WARNING, logger="ops.cache")

    assert cache.incr_counters([("a", 61), ("b", 3601)]) is None
    assert cache.incr_counters([("a", 61)]) is None
    messages = outage_records(caplog)
    assert len(messages) == 1
    assert messages[0].startswith("cache unreachable (ConnectionError)")


def test_throttle_counters_in_one_round_trip():
    """Counts per key, prefixed as the cache's other keys; expiry set at creation."""
    cache = tolerant_cache(REACHABLE)
    raw = cache.client.get_client(write=True)
    cache.delete_many(["a", "b"])

    assert cache.incr_counters([("a", 61), ("b", 3601)]) == [1, 1]
    assert cache.incr_counters([("a", 61)]) == [2]
    assert cache.get("a") == 2
    assert 0 < raw.ttl(cache.make_key("a")) <= 61
    assert 3590 < raw.ttl(cache.make_key("b")) <= 3601
    cache.delete_many(["a", "b"])


def test_reads_and_counters_in_one_round_trip():
    """`get_many_incr`: what get_many answers, then the counts, in one script call."""
    cache = tolerant_cache(REACHABLE)
    raw = cache.client.get_client(write=True)
    cache.delete_many(["entry", "absent", "c"])
    cache.set("entry", ("a", 1))
    cache.get_many_incr(["absent"], [])  # the script loaded (NOSCRIPT on a new Redis)
    calls = []
    original = raw.evalsha
    raw.evalsha = lambda *args: calls.append(args[0]) or original(*args)

    try:
        first = cache.get_many_incr(["entry", "absent"], [("c", 61)])
        second = cache.get_many_incr(["entry"], [("c", 61)])
        alone = cache.get_many_incr([], [("c", 61)])
    finally:
        del raw.evalsha

    assert first == ({"entry": ("a", 1)}, [1])
    assert second == ({"entry": ("a", 1)}, [2])
    assert alone == ({}, [3])
    assert len(calls) == 3  # one round trip each
    assert 0 < raw.ttl(cache.make_key("c")) <= 61
    cache.delete_many(["entry", "c"])


def test_reads_and_counters_while_unreachable(caplog):
    cache = tolerant_cache(UNREACHABLE)
    caplog.set_level(logging.WARNING, logger="ops.cache")

    assert cache.get_many_incr(["entry"], [("c", 61)]) == ({}, None)
    assert len(outage_records(caplog)) == 1
