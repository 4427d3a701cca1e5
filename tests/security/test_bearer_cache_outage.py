"""A token that dies while Redis is unreachable is refused once Redis answers again.

The cache is a real redis-server behind a TCP link the test can cut: cut, Redis
keeps its data (the cached token included) but no process reaches it, so the
tombstone written on revocation is lost; restored, the old entry is still there.
"""

import time

import pytest
import redis
from django.core.cache import cache
from django.urls import reverse

from oauth_server import token_cache
from oauth_server.token_cache import EPOCH_KEY, KEY, TOMBSTONE
from oauth_server.tokens import checksum
from tests.cluster.services import CuttableLink, PrivateRedis
from tests.oauth_server.flows import sign_in
from tests.security.revocations import (
    deactivate_app_with_service,
    deactivate_user,
    revoke_at_endpoint,
)

BOOKS = reverse("api:book-list", kwargs={"version": "v1"})
USERINFO = reverse("oauth2_provider:user-info")
EPOCH_SECONDS = 1


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test starts as a process that has learnt no epoch yet."""
    monkeypatch.setattr(token_cache, "_known_epoch", token_cache.KnownEpoch())


@pytest.fixture(scope="module")
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def link(private_redis, settings):
    """The default cache on the private Redis, through a link that can be cut."""
    private_redis.client().flushall()
    link = CuttableLink(private_redis.port)
    link.restore()
    settings.CACHES = {
        "default": {
            "BACKEND": "ops.cache.TolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{link.port}/0",
            "KEY_PREFIX": "bearer-outage",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    settings.CACHE_SHARED = True
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "bearer_cache_seconds": 300,
        "bearer_cache_epoch_seconds": EPOCH_SECONDS,
    }
    yield link
    link.cut()


@pytest.fixture
def tokens(client, reader, web_app):
    return sign_in(client, reader, web_app, scope="openid profile books:read")


@pytest.fixture
def warm(link, api_client_for, tokens):
    """An API client whose token is cached in Redis."""
    api = api_client_for(tokens["access_token"])
    assert api.get(BOOKS).status_code == 200
    assert api.get(BOOKS).status_code == 200  # a hit
    return api


def cached_entry(tokens) -> object:
    return cache.get(KEY % checksum(tokens["access_token"]))


REASONS = [revoke_at_endpoint, deactivate_user, deactivate_app_with_service]


def as_another_process(monkeypatch, settings) -> None:
    """From here on, act as a process that never saw the outage.

    Its cache backend is new (own connections, own outage tracker: Django makes a
    new one when CACHES changes) and it has learnt no epoch.
    """
    monkeypatch.setattr(token_cache, "_known_epoch", token_cache.KnownEpoch())
    settings.CACHES = {"default": dict(settings.CACHES["default"])}


@pytest.mark.parametrize("kill", REASONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("url", [BOOKS, USERINFO], ids=["api", "userinfo"])
def test_token_killed_during_an_outage_is_refused_when_redis_returns(
    client,
    tokens,
    reader,
    web_app,
    warm,
    link,
    kill,
    url,
    django_capture_on_commit_callbacks,
):
    """The process that could not forget the entry refuses the token at once."""
    link.cut()
    with django_capture_on_commit_callbacks(execute=True):  # as if it committed
        kill(client, tokens, reader, web_app, None)
    link.restore()
    assert cached_entry(tokens) not in (None, TOMBSTONE)  # the stale entry is back

    response = warm.get(url)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert cache.get(EPOCH_KEY) >= 1  # the stale lease replaced, for the others


@pytest.mark.parametrize("kill", REASONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("outage", ["longer", "shorter"])
def test_every_process_refuses_a_token_killed_during_an_outage(
    client,
    tokens,
    reader,
    web_app,
    warm,
    link,
    kill,
    outage,
    monkeypatch,
    settings,
    django_capture_on_commit_callbacks,
):
    """Another process refuses it once the epoch lease it read before has ended.

    An outage longer than the lease: on its first request after Redis returns.
    Shorter: when the lease ends, at most `bearer_cache_epoch_seconds` after it
    was last read from the database, which was before the revocation.
    """
    link.cut()
    with django_capture_on_commit_callbacks(execute=True):
        kill(client, tokens, reader, web_app, None)
    if outage == "longer":
        time.sleep(EPOCH_SECONDS)
    link.restore()
    if outage == "shorter":
        time.sleep(EPOCH_SECONDS)  # the lease ends with Redis up
    assert cached_entry(tokens) not in (None, TOMBSTONE)

    as_another_process(monkeypatch, settings)
    response = warm.get(BOOKS)
    assert response.status_code == 401
    assert token_cache._known_epoch.value >= 1  # learnt from the database


def test_a_live_token_survives_an_outage(warm, link):
    """An outage alone (nothing forgotten) keeps serving cached tokens."""
    link.cut()
    assert warm.get(BOOKS).status_code == 200  # from the database
    link.restore()
    assert warm.get(BOOKS).status_code == 200


def test_the_stale_entry_is_really_in_redis(private_redis, warm, link, tokens):
    """The test's premise: cutting the link loses no data on the server."""
    link.cut()
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=link.port, socket_connect_timeout=0.5).ping()
    assert private_redis.client().dbsize() > 0
    link.restore()
    assert cached_entry(tokens) not in (None, TOMBSTONE)
