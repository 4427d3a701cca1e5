"""Rates per user, per application and for writes; 429 with Retry-After."""

import logging
import time
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse
from redis.connection import AbstractConnection
from rest_framework.views import APIView

from resources.throttling import ApiRateThrottle
from tests.factories import AccessTokenFactory, ApplicationFactory, BookFactory

V1 = {"version": "v1"}
GENEROUS = "1000/minute"


@pytest.fixture
def rates(settings):
    """`rates(user=..., application=..., review_writes=...)` for this test only."""

    def set_rates(**overrides):
        base = {
            "application": GENEROUS,
            "user": GENEROUS,
            "catalogue_writes": GENEROUS,
            "review_writes": GENEROUS,
        }
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**base, **overrides},
        }

    return set_rates


def test_user_rate_gives_429_with_retry_after(client_for, reader, rates):
    """Past the per-user rate: 429 and a Retry-After in seconds."""
    rates(user="2/minute")
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)

    statuses = [client.get(url).status_code for _ in range(3)]
    response = client.get(url)

    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")


def test_application_rate_is_shared_by_its_users(client_for, reader, editor, rates):
    """Two users of one application draw from the application's budget."""
    rates(application="3/minute")
    url = reverse("api:book-list", kwargs=V1)
    first, second = client_for(reader), client_for(editor)

    statuses = [c.get(url).status_code for c in (first, second, first, second)]

    assert statuses == [200, 200, 200, 429]


def test_write_rate_limits_writes_only(client_for, reader, rates):
    """Past the review-write rate, writes get 429 while reads still work."""
    rates(review_writes="1/minute")
    client = client_for(reader)
    one, two = BookFactory(), BookFactory()

    def post(book):
        url = reverse("api:book-review-list", kwargs={**V1, "book_pk": book.pk})
        return client.post(url, {"rating": 3}, format="json")

    assert post(one).status_code == 201
    refused = post(two)
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert client.get(reverse("api:book-list", kwargs=V1)).status_code == 200


def test_throttle_history_lives_in_the_shared_cache(client_for, reader, rates):
    """Counts are kept in the default cache (Redis in production), per user and
    window."""
    rates(user="5/minute")
    client_for(reader).get(reverse("api:book-list", kwargs=V1))

    window = int(time.time() // 60)
    assert cache.get(f"throttle_user_u{reader.pk}:{window}") == 1


@pytest.fixture
def machine_client(api_client_for):
    """`machine_client(app)`: an APIClient with a client-credentials token of `app`."""

    def make(app):
        return api_client_for(AccessTokenFactory(user=None, application=app))

    return make


def test_service_token_is_not_limited_per_address(machine_client, machine_app, rates):
    """A client-credentials token counts against its application, not the user
    rate of the address it shares with others."""
    rates(user="2/minute")
    client = machine_client(machine_app)
    url = reverse("api:book-list", kwargs=V1)

    assert [client.get(url).status_code for _ in range(4)] == [200] * 4


def test_each_service_has_its_own_budget(machine_client, rates):
    """Two client-credentials applications on one address: separate budgets."""
    rates(application="2/minute")
    first, second = (
        machine_client(
            ApplicationFactory(
                authorization_grant_type="client-credentials",
                redirect_uris="",
                post_logout_redirect_uris="",
                allowed_scopes="books:read",
            )
        )
        for _ in range(2)
    )
    url = reverse("api:book-list", kwargs=V1)

    assert [first.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert second.get(url).status_code == 200


def test_user_token_counts_against_user_and_application(client_for, reader, rates):
    """A user's token draws from the user's budget as well as its app's."""
    rates(user="1/minute")
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)

    assert [client.get(url).status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize(
    ("auth", "idents"),
    [
        ("none", [("user", "ip127.0.0.1")]),
        ("service", [("application", "APP")]),
    ],
)
def test_rates_by_kind_of_caller(rf, machine_app, auth, idents):
    """Anonymous requests are counted per address; service tokens per application
    only."""
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    request = Request(rf.get("/", REMOTE_ADDR="127.0.0.1"))
    request.user = AnonymousUser()
    request.auth = (
        AccessTokenFactory(user=None, application=machine_app)
        if auth == "service"
        else None
    )
    expected = [(s, machine_app.pk if i == "APP" else i) for s, i in idents]

    assert ApiRateThrottle().get_idents(request, view=None) == expected


@pytest.mark.parametrize(
    ("refusing", "retry_after"),
    [({"user": "1/minute"}, 30), ({"user": "1/minute", "application": "1/hour"}, 3570)],
)
def test_retry_after_is_the_longest_wait(
    client_for, reader, rates, monkeypatch, refusing, retry_after
):
    """Over several rates at once, Retry-After names the window that ends last."""
    rates(**refusing)
    # 30 s before a minute's end, 3570 s before the hour's.
    monkeypatch.setattr(ApiRateThrottle, "timer", staticmethod(lambda: 1_800_000_030))
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)

    assert client.get(url).status_code == 200
    response = client.get(url)

    assert response.status_code == 429
    assert int(response["Retry-After"]) == retry_after


def test_unreachable_cache_leaves_requests_unthrottled(
    client_for, reader, rates, settings, caplog
):
    """Redis down: counts are not kept, so requests pass rather than fail (no 500),
    and the outage is logged as for any other use of the cache."""
    rates(user="1/minute")
    settings.CACHES = {
        "default": {
            "BACKEND": "ops.cache.TolerantRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: refused at once
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)
    caplog.set_level(logging.WARNING, logger="ops.cache")

    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    assert [r.getMessage()[:30] for r in caplog.records if r.name == "ops.cache"] == [
        "cache unreachable (ConnectionE"
    ]


# Round trips to Redis: the cache as production runs it (REDIS_URL set). Without
# REDIS_URL these tests use the Redis of CI and development, db 15, under a key
# prefix of their own.
FALLBACK_REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis for this test (TolerantRedisCache), with a key
    prefix no other test shares; answers its raw redis client and the prefix."""
    default = settings.CACHES["default"]
    on_redis = default["BACKEND"] == "ops.cache.TolerantRedisCache"
    prefix = f"test-throttling-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "ops.cache.TolerantRedisCache",
            "LOCATION": default["LOCATION"] if on_redis else FALLBACK_REDIS,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    # Only the throttles use the cache: no bearer lookups, no list pages.
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 0}
    settings.CATALOGUE_CACHE_SECONDS = 0
    raw = cache.client.get_client(write=True)
    yield raw, prefix
    keys = raw.keys(f"{prefix}:*")
    if keys:
        raw.delete(*keys)


@pytest.fixture
def same_window(monkeypatch):
    """A throttle clock that stands still, so a test's requests share a window."""
    monkeypatch.setattr(ApiRateThrottle, "timer", staticmethod(lambda: 1_800_000_030))


def round_trips_during(monkeypatch, cls, name: str) -> list:
    """What is sent to Redis while `cls.name` runs, one item per round trip."""
    sent = []
    during = False
    real_send = AbstractConnection.send_packed_command
    real = getattr(cls, name)

    def send_packed_command(connection, command, *args, **kwargs):
        if during:
            sent.append(command)
        return real_send(connection, command, *args, **kwargs)

    def watched(*args, **kwargs):
        nonlocal during
        during = True
        try:
            return real(*args, **kwargs)
        finally:
            during = False

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send_packed_command)
    monkeypatch.setattr(cls, name, watched)
    return sent


@pytest.fixture
def throttle_round_trips(monkeypatch):
    """What is sent to Redis while DRF checks throttles."""
    return round_trips_during(monkeypatch, APIView, "check_throttles")


@pytest.fixture
def caller(client_for, reader, web_app, machine_client, machine_app, api_client):
    """`caller(kind)`: a client of that kind and the counters its GET uses."""

    def make(kind):
        if kind == "service":
            return machine_client(machine_app), [f"application_{machine_app.pk}"]
        if kind == "user":  # a token of web_app
            return client_for(reader), [
                f"application_{web_app.pk}",
                f"user_u{reader.pk}",
            ]
        if kind == "session":
            api_client.force_login(reader)
            return api_client, [f"user_u{reader.pk}"]
        return api_client, ["user_ip127.0.0.1"]

    return make


KIND_URLS = {
    "service": (reverse("api:book-list", kwargs=V1), {}),
    "user": (reverse("api:book-list", kwargs=V1), {}),
    # The browsable API is a session's only way in.
    "session": (reverse("api:book-list", kwargs=V1), {"HTTP_ACCEPT": "text/html"}),
    # The catalogue needs a token; the API's docs page does not.
    "anonymous": (reverse("api-docs"), {}),
}


def throttle_counters(raw, prefix):
    """{counter name without prefix and window: (count, ttl)} in Redis."""
    counters = {}
    for key in raw.keys(f"{prefix}:*:throttle_*"):
        name = key.decode().split(":", 2)[2].removeprefix("throttle_")
        counters[name.rsplit(":", 1)[0]] = (int(raw.get(key)), raw.ttl(key))
    return counters


@pytest.mark.parametrize("kind", ["service", "user", "session", "anonymous"])
def test_throttles_cost_one_round_trip_per_request(
    redis_cache, throttle_round_trips, same_window, caller, rates, kind
):
    """Every rate of a request is counted in one Redis round trip, whoever asks,
    with each counter expiring a second after its window."""
    rates()
    raw, prefix = redis_cache
    client, counters = caller(kind)
    url, headers = KIND_URLS[kind]
    assert client.get(url, **headers).status_code == 200  # connected; counters made
    throttle_round_trips.clear()

    assert client.get(url, **headers).status_code == 200

    assert len(throttle_round_trips) == 1
    found = throttle_counters(raw, prefix)
    assert sorted(found) == sorted(counters)
    for count, ttl in found.values():
        assert count == 2
        assert 0 < ttl <= 61  # GENEROUS is per minute


def test_write_costs_one_round_trip(
    redis_cache, throttle_round_trips, same_window, client_for, reader, rates
):
    """A user's write counts application, user and write rates in one round trip."""
    rates(review_writes="5/hour")
    raw, prefix = redis_cache
    client = client_for(reader)
    assert client.get(reverse("api:book-list", kwargs=V1)).status_code == 200
    throttle_round_trips.clear()
    url = reverse("api:book-review-list", kwargs={**V1, "book_pk": BookFactory().pk})

    assert client.post(url, {"rating": 3}, format="json").status_code == 201

    assert len(throttle_round_trips) == 1
    found = throttle_counters(raw, prefix)
    assert found[f"review_writes_u{reader.pk}"][0] == 1
    assert 3540 < found[f"review_writes_u{reader.pk}"][1] <= 3601
    assert found[f"user_u{reader.pk}"][0] == 2


def test_counter_expiry_is_set_once(
    redis_cache, same_window, rates, client_for, reader
):
    """The window's first request sets its counter's expiry; later ones keep it."""
    rates(user="100/hour")
    raw, prefix = redis_cache
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)
    assert client.get(url).status_code == 200
    (key,) = raw.keys(f"{prefix}:*throttle_user_u{reader.pk}:*")
    raw.expire(key, 1000)  # as if the window were older

    assert client.get(url).status_code == 200

    assert int(raw.get(key)) == 2
    assert 990 < raw.ttl(key) <= 1000
    raw.persist(key)  # a counter without expiry (not one the throttle leaves) gets one
    assert client.get(url).status_code == 200
    assert 3590 < raw.ttl(key) <= 3601


# --- Counted in the token lookup's round trip ----------------------------------------


@pytest.fixture
def bearer_cached(redis_cache, settings):
    """The throttles' Redis with the bearer cache on, shared, as in production."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 60}
    settings.CACHE_SHARED = True
    return redis_cache


@pytest.fixture
def checking_round_trips(monkeypatch):
    """What is sent to Redis while DRF authenticates, checks permissions and
    throttles (`APIView.initial`)."""
    return round_trips_during(monkeypatch, APIView, "initial")


@pytest.mark.parametrize("kind", ["service", "user"])
def test_a_known_token_is_looked_up_and_counted_in_one_round_trip(
    bearer_cached, checking_round_trips, same_window, caller, rates, kind
):
    """The second request of a token in this process knows its counters: the token
    lookup counts them (one script call), the throttle sends nothing; every
    request is counted once."""
    rates()
    raw, prefix = bearer_cached
    client, counters = caller(kind)
    url, headers = KIND_URLS[kind]
    assert client.get(url, **headers).status_code == 200  # cached, counters seen
    checking_round_trips.clear()

    assert client.get(url, **headers).status_code == 200
    assert len(checking_round_trips) == 1
    assert client.get(url, **headers).status_code == 200

    found = throttle_counters(raw, prefix)
    assert sorted(found) == sorted(counters)
    for count, ttl in found.values():
        assert count == 3
        assert 0 < ttl <= 61


def test_counted_ahead_still_refuses_past_the_rate(
    bearer_cached, same_window, client_for, reader, rates
):
    rates(user="3/minute")
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)

    statuses = [client.get(url).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]


def test_counted_ahead_keeps_the_write_rate_to_writes(
    bearer_cached, same_window, client_for, reader, rates
):
    """Counters are known per method: a token seen on GETs counts its first POST
    with the write rate too, and its GETs never do."""
    rates(review_writes="2/hour")
    raw, prefix = bearer_cached
    client = client_for(reader)
    book = BookFactory()
    reviews = reverse("api:book-review-list", kwargs={**V1, "book_pk": book.pk})
    for _ in range(3):
        assert client.get(reviews).status_code == 200
    assert f"review_writes_u{reader.pk}" not in throttle_counters(raw, prefix)

    assert client.post(reviews, {"rating": 3}, format="json").status_code == 201
    assert throttle_counters(raw, prefix)[f"review_writes_u{reader.pk}"][0] == 1


def test_a_revoked_token_counted_ahead_is_still_refused(
    bearer_cached, same_window, client_for, reader, rates
):
    rates()
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]

    reader_tokens = AccessTokenFactory._meta.model.objects.filter(user=reader)
    reader_tokens.delete()

    assert client.get(url).status_code == 401


def test_a_warm_list_page_is_two_round_trips(
    bearer_cached, settings, monkeypatch, same_window, client_for, reader, rates
):
    """The token, its counters and the catalogue's generation in one script call
    (`cache_reads_ahead`), then the page: two round trips for the whole request,
    and a change of the catalogue is still seen by the next list."""
    rates()
    settings.CATALOGUE_CACHE_SECONDS = 60
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)
    BookFactory(title="Kindred")
    assert client.get(url).status_code == 200  # token, counters and page cached
    assert client.get(url).status_code == 200
    sent = []
    real_send = AbstractConnection.send_packed_command

    def send_packed_command(connection, command, *args, **kwargs):
        sent.append(command)
        return real_send(connection, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send_packed_command)
    response = client.get(url)

    assert response.status_code == 200
    assert len(sent) == 2
    BookFactory(title="Dawn")
    assert [book["title"] for book in client.get(url).json()["results"]] == [
        "Dawn",
        "Kindred",
    ]
