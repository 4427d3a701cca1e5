"""Bearer lookups answered from a shared cache are never staler than the database.

With the cache warm (the token checked at least once), each way a token stops being
valid is followed by a refused request on the very next call: revocation through the
endpoint or the admin, deactivation of the user or the application, a lost group.
Local mode (no Redis, a cache per process) is in test_bearer_cache_local.py.
"""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse

from oauth_server.models import BearerCacheEpoch
from oauth_server.token_cache import EPOCH_KEY, KEY
from oauth_server.tokens import checksum
from resources import groups
from tests.factories import BookFactory
from tests.oauth_server.flows import sign_in
from tests.security.revocations import REASONS, revoke_at_endpoint

BOOKS = reverse("api:book-list", kwargs={"version": "v1"})
USERINFO = reverse("oauth2_provider:user-info")


@pytest.fixture(autouse=True)
def bearer_cache_on(settings):
    """The cache as production runs it with REDIS_URL (`CACHE_SHARED`); locmem
    stands in for Redis on SQLite, one process here.

    The epoch lease is long here so a slow run never sees it lapse between two
    requests; test_bearer_cache_outage.py covers the lease and lost invalidations.
    The catalogue's list cache stays off so every request builds its page: the
    counts below are the bearer check's plus that page's.
    """
    settings.CACHE_SHARED = True
    settings.CATALOGUE_CACHE_SECONDS = 0
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "bearer_cache_seconds": 300,
        "bearer_cache_epoch_seconds": 300,
    }


@pytest.fixture
def tokens(client, reader, web_app):
    return sign_in(client, reader, web_app, scope="openid profile books:read")


@pytest.fixture
def warm(api_client_for, tokens):
    """An API client whose token is already in the cache."""
    api = api_client_for(tokens["access_token"])
    assert api.get(BOOKS).status_code == 200
    assert cache.get(KEY % checksum(tokens["access_token"])) is not None
    return api


@pytest.mark.parametrize("kill", REASONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("url", [BOOKS, USERINFO], ids=["api", "userinfo"])
def test_dead_token_is_refused_on_the_next_request(
    client, admin_client, tokens, reader, web_app, warm, kill, url
):
    """With the token cached, the first request after its death is a 401."""
    assert warm.get(url).status_code == 200  # a cache hit

    kill(client, tokens, reader, web_app, admin_client)

    response = warm.get(url)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_lost_permission_is_seen_on_the_next_request(warm, reader):
    """Leaving the readers group takes effect at once, cache or not."""
    reader.groups.remove(Group.objects.get(name=groups.READERS))

    assert warm.get(BOOKS).status_code == 403


def test_lost_group_permission_is_seen_on_the_next_request(warm, reader):
    """A permission taken from the user's group takes effect at once."""
    Group.objects.get(name=groups.READERS).permissions.clear()

    assert warm.get(BOOKS).status_code == 403


def test_a_cache_hit_asks_the_database_nothing_for_the_token(
    warm, django_assert_num_queries
):
    """Warm: token, application, user and permissions come from the cache."""
    BookFactory.create_batch(5)
    with django_assert_num_queries(1):  # the page of books
        assert warm.get(BOOKS).status_code == 200


def test_a_cache_miss_costs_one_query_for_the_token(
    api_client_for, tokens, django_assert_max_num_queries
):
    """Cold: one query for token, application and user; then permissions, books."""
    api = api_client_for(tokens["access_token"])
    with django_assert_max_num_queries(4):  # token, 2 x permissions, books
        assert api.get(BOOKS).status_code == 200


def test_off_means_the_database_every_time(
    settings, api_client_for, tokens, django_assert_num_queries
):
    """bearer_cache_seconds = 0 keeps nothing."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 0}
    api = api_client_for(tokens["access_token"])
    api.get(BOOKS)

    assert cache.get(KEY % checksum(tokens["access_token"])) is None
    with django_assert_num_queries(4):
        assert api.get(BOOKS).status_code == 200


def test_a_lapsed_epoch_lease_costs_one_query(warm, django_assert_num_queries):
    """Once per lease, for all processes, a hit reads the epoch row; then none."""
    cache.delete(EPOCH_KEY)
    with django_assert_num_queries(2):  # the epoch, the page of books
        assert warm.get(BOOKS).status_code == 200
    with django_assert_num_queries(1):
        assert warm.get(BOOKS).status_code == 200


def test_a_forgotten_entry_leaves_the_epoch_alone(client, tokens, web_app, warm):
    """The epoch moves only when a tombstone is lost, not on every revocation.

    Compared with its value before: servers that end-to-end tests run on the test
    database without Redis (local mode) move it in committed transactions.
    """
    before = list(BearerCacheEpoch.objects.values_list("value", flat=True))
    revoke_at_endpoint(client, tokens, None, web_app, None)

    assert warm.get(BOOKS).status_code == 401
    assert list(BearerCacheEpoch.objects.values_list("value", flat=True)) == before
