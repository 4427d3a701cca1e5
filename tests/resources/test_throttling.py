"""Rates per user, per application and for writes; 429 with Retry-After."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

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
    ("auth", "key"),
    [
        ("none", "throttle_user_ip127.0.0.1"),
        ("service", None),
    ],
)
def test_user_rate_key_by_kind_of_caller(rf, machine_app, auth, key):
    """Anonymous requests are counted per address; service tokens not at all."""
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    from resources.throttling import UserRateThrottle

    request = Request(rf.get("/", REMOTE_ADDR="127.0.0.1"))
    request.user = AnonymousUser()
    request.auth = (
        AccessTokenFactory(user=None, application=machine_app)
        if auth == "service"
        else None
    )

    assert UserRateThrottle().get_cache_key(request, view=None) == key


def test_one_cache_round_trip_per_check(
    client_for, reader, rates, monkeypatch, settings
):
    """After a window's first request, each throttle costs one cache call."""
    rates()
    # Only the throttles' calls: no bearer lookups and no list pages (both on by
    # default with Redis).
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 0}
    settings.CATALOGUE_CACHE_SECONDS = 0
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)
    client.get(url)  # the window's counters now exist
    calls = []
    for name in ("get", "set", "add", "incr", "get_many", "set_many"):
        real = getattr(cache, name)

        def spy(*args, _name=name, _real=real, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(cache, name, spy)

    assert client.get(url).status_code == 200
    assert calls == ["incr", "incr"]  # application, user


def test_unreachable_cache_leaves_requests_unthrottled(
    client_for, reader, rates, settings
):
    """Redis down: counts are not kept, so requests pass rather than fail (no 500)."""
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

    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
