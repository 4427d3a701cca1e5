"""Without Redis each process caches bearer lookups in its own memory, and every
process still refuses a dead token on its next request, whichever process killed it.

Local mode (oauth_server/token_cache.py): a hit reads the epoch row, one query, and
every revocation, deactivation or permission change moves that row in its own
transaction. Two processes here are two local-memory caches over one database.
"""

import pytest
from django.core.cache import cache
from django.urls import reverse

from oauth_server.models import BearerCacheEpoch
from oauth_server.token_cache import KEY
from oauth_server.tokens import checksum
from tests.factories import AccessTokenFactory, BookFactory
from tests.oauth_server.flows import sign_in
from tests.security.revocations import PERMISSION_LOSSES, REASONS, revoke_at_endpoint

BOOKS = reverse("api:book-list", kwargs={"version": "v1"})
USERINFO = reverse("oauth2_provider:user-info")
EPOCH_TABLE = BearerCacheEpoch._meta.db_table


@pytest.fixture(autouse=True)
def bearer_cache_on(settings):
    """The bearer cache on; the catalogue's list cache off, so the counts below are
    the bearer check's plus the page of books it builds every time."""
    settings.CATALOGUE_CACHE_SECONDS = 0
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 300}


@pytest.fixture
def tokens(client, reader, web_app):
    return sign_in(client, reader, web_app, scope="openid profile books:read")


def cached(tokens) -> object:
    return cache.get(KEY % checksum(tokens["access_token"]))


@pytest.fixture
def warm(process, api_client_for, tokens):
    """An API client whose token process "a" has cached, and process "b" has not."""
    api = api_client_for(tokens["access_token"])
    with process("a"):
        assert api.get(BOOKS).status_code == 200
        assert cached(tokens) is not None
    with process("b"):
        assert cached(tokens) is None
    return api


def epoch() -> int:
    return BearerCacheEpoch.objects.get().value


@pytest.mark.parametrize("kill", REASONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("url", [BOOKS, USERINFO], ids=["api", "userinfo"])
def test_a_token_killed_in_another_process_is_refused_on_the_next_request(
    process, client, admin_client, tokens, reader, web_app, warm, kill, url
):
    """Process "a" holds the token; "b" kills it; "a"'s next request is a 401."""
    with process("a"):
        assert warm.get(url).status_code == 200  # a hit
    before = epoch()

    with process("b"):
        kill(client, tokens, reader, web_app, admin_client)

    assert epoch() > before  # moved with the revocation, no tombstone needed
    with process("a"):
        assert cached(tokens) is not None  # "b" could not reach "a"'s entry
        response = warm.get(url)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("change", PERMISSION_LOSSES, ids=lambda f: f.__name__)
def test_a_permission_lost_in_another_process_is_seen_on_the_next_request(
    process, warm, reader, change
):
    """Group changes made by process "b" reach "a"'s cached user at once."""
    with process("b"):
        change(reader)

    with process("a"):
        assert warm.get(BOOKS).status_code == 403


def test_a_hit_costs_one_query_the_epoch(process, warm, django_assert_num_queries):
    """Warm: token, application, user and permissions from the process's cache;
    only the epoch row is read."""
    BookFactory.create_batch(5)
    with process("a"):
        with django_assert_num_queries(1) as queries:
            assert warm.get(USERINFO).status_code == 200
        with django_assert_num_queries(2):  # the epoch, the page of books
            assert warm.get(BOOKS).status_code == 200
    assert EPOCH_TABLE in queries.captured_queries[0]["sql"]


def test_a_miss_reads_token_and_epoch_in_one_query(
    process, warm, django_assert_num_queries
):
    """Cold in process "b": one query for the token, its application, user and the
    epoch; then the user's permissions, cached with it, and the page of books."""
    with process("b"), django_assert_num_queries(4) as queries:
        assert warm.get(BOOKS).status_code == 200
    epoch_reads = [
        q["sql"] for q in queries.captured_queries if EPOCH_TABLE in q["sql"]
    ]
    assert len(epoch_reads) == 1
    assert "token_checksum" in epoch_reads[0]


def test_an_unrelated_revocation_costs_one_reload(
    process, client, tokens, web_app, warm, reader, django_assert_num_queries
):
    """Any revocation distrusts every process's entries: the next lookup of each
    cached token reads the epoch, then the token again, and caches it anew."""
    other = sign_in(client, reader, web_app, scope="openid profile books:read")
    with process("b"):
        revoke_at_endpoint(client, other, reader, web_app, None)

    with process("a"):
        # the epoch, then token and epoch, and 2 x permissions to cache with it
        with django_assert_num_queries(4):
            assert warm.get(USERINFO).status_code == 200
        with django_assert_num_queries(1):
            assert warm.get(USERINFO).status_code == 200


def test_creating_a_token_leaves_cached_ones_alone(process, warm, web_app, reader):
    """Issuing tokens, the common write, does not move the epoch."""
    before = epoch()
    with process("b"):
        AccessTokenFactory(user=reader, application=web_app)

    assert epoch() == before


def test_each_process_refuses_once_and_caches_nothing_dead(
    process, client, tokens, reader, web_app, warm
):
    """After the revocation neither process serves the token, hit or miss."""
    with process("a"):
        revoke_at_endpoint(client, tokens, reader, web_app, None)

    for name in ("a", "b", "a", "b"):
        with process(name):
            assert warm.get(BOOKS).status_code == 401
