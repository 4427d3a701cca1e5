"""Rates per user, per application and for writes; 429 with Retry-After."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import BookFactory

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
    """Counts are kept in the default cache (Redis in production), per user."""
    rates(user="5/minute")
    client_for(reader).get(reverse("api:book-list", kwargs=V1))

    assert len(cache.get(f"throttle_user_u{reader.pk}")) == 1
