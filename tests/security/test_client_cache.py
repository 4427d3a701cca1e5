"""Client authentication answered from the shared cache is never staler than the
database, and introspection answers from the bearer cache the same way.

With the application warm in the cache (it authenticated once), each way its
credentials stop working is followed by a refused request on the very next call:
its secret rotated, the application deactivated (flag, service, admin action),
deleted, or its client_id changed. Introspection of a revoked token answers
`active: false` on the next call although the token was cached. A warm
introspection reads the caller's entry, the token's and the epoch lease in one
round trip (`token_cache.prefetched`), and refuses just as soon.
"""

import pytest
from django.core.cache import cache, caches
from django.urls import reverse
from django_redis.cache import RedisCache
from oauth2_provider.models import get_access_token_model
from redis.connection import AbstractConnection

from oauth_server import services, token_cache
from oauth_server.models import Application
from oauth_server.tokens import checksum
from tests.factories import AccessTokenFactory
from tests.oauth_server.flows import form_post, sign_in
from tests.security import revocations

TOKEN = reverse("oauth2_provider:token")
INTROSPECT = reverse("oauth2_provider:introspect")
REVOKE = reverse("oauth2_provider:revoke-token")


@pytest.fixture(autouse=True)
def bearer_cache_on(settings):
    """The cache as production runs it with REDIS_URL (`CACHE_SHARED`); locmem is
    one process here. Local mode (no Redis) is tested at the end of the file."""
    settings.CACHE_SHARED = True
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "bearer_cache_seconds": 300,
        "bearer_cache_epoch_seconds": 300,
    }


def client_credentials(client, application, secret=None):
    return form_post(
        client,
        TOKEN,
        {"grant_type": "client_credentials"},
        auth=(application.client_id, secret or application.cleartext_secret),
    )


def client_key(application) -> str:
    return token_cache.CLIENT_KEY % token_cache.checksum_of(application.client_id)


@pytest.fixture
def warm(client, machine_app):
    """The machine application, authenticated once: its row is in the cache."""
    assert client_credentials(client, machine_app).status_code == 200
    assert isinstance(cache.get(client_key(machine_app)), tuple)
    return machine_app


def rotate_secret(app, admin_client):
    services.application_rotate_secret(client_id=app.client_id)


def deactivate_flag_only(app, admin_client):
    app.is_active = False  # the change form: the flag alone
    app.save()


def deactivate_with_service(app, admin_client):
    services.application_deactivate(client_id=app.client_id)


def deactivate_with_admin_action(app, admin_client):
    url = reverse("admin:oauth_server_application_changelist")
    data = {"action": "deactivate", "_selected_action": [app.pk]}
    assert admin_client.post(url, data).status_code == 302


def delete(app, admin_client):
    Application.objects.get(pk=app.pk).delete()


def change_client_id(app, admin_client):
    app.client_id = "renamed-" + app.client_id[:20]
    app.save()


REASONS = [
    rotate_secret,
    deactivate_flag_only,
    deactivate_with_service,
    deactivate_with_admin_action,
    delete,
    change_client_id,
]


@pytest.mark.parametrize("stop", REASONS, ids=lambda f: f.__name__)
def test_old_credentials_are_refused_on_the_next_request(
    client, admin_client, warm, stop
):
    client_id, secret = warm.client_id, warm.cleartext_secret
    stop(warm, admin_client)

    response = form_post(
        client, TOKEN, {"grant_type": "client_credentials"}, auth=(client_id, secret)
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_rotated_secret_works_at_once(client, warm):
    new_secret = services.application_rotate_secret(
        client_id=warm.client_id
    ).client_secret

    response = client_credentials(client, warm, secret=new_secret)

    assert response.status_code == 200


def test_the_renamed_client_id_works_at_once(client, warm):
    secret = warm.cleartext_secret
    change_client_id(warm, None)

    response = client_credentials(client, warm, secret=secret)

    assert response.status_code == 200


def test_a_wrong_secret_is_refused_with_the_application_cached(client, warm):
    response = client_credentials(client, warm, secret="not-the-secret")

    assert response.status_code == 401


def test_a_warm_client_credentials_token_only_writes(
    client, warm, django_assert_max_num_queries
):
    """The token and its audit event; the application comes from the cache."""
    # The test's transaction adds a savepoint pair around the token's writes on
    # SQLite; on PostgreSQL the two INSERTs and SET LOCAL are one statement
    # string (test_async_commit.py).
    with django_assert_max_num_queries(4) as captured:
        assert client_credentials(client, warm).status_code == 200
    sent = [
        part.split()[0]
        for query in captured.captured_queries
        for part in query["sql"].split("; ")
    ]
    assert [verb for verb in sent if verb not in ("SAVEPOINT", "SET", "RELEASE")] == [
        "INSERT",
        "INSERT",
    ]


def test_off_means_the_database_every_time(
    settings, client, machine_app, django_assert_max_num_queries
):
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 0}
    client_credentials(client, machine_app)

    assert cache.get(client_key(machine_app)) is None
    with django_assert_max_num_queries(5) as captured:
        assert client_credentials(client, machine_app).status_code == 200
    reads = [q for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1


# --- Introspection from the bearer cache ------------------------------------------


@pytest.fixture
def tokens(client, reader, web_app):
    return sign_in(client, reader, web_app, scope="openid profile books:read")


def introspect(client, introspector, value):
    return form_post(
        client,
        INTROSPECT,
        {"token": value},
        auth=(introspector.client_id, introspector.cleartext_secret),
    )


def test_introspection_of_a_cached_token_asks_the_database_nothing(
    client, introspector, tokens, django_assert_num_queries
):
    assert introspect(client, introspector, tokens["access_token"]).json()["active"]

    with django_assert_num_queries(0):
        response = introspect(client, introspector, tokens["access_token"])

    assert response.json()["active"] is True
    assert response.json()["scope"] == "openid profile books:read"


def test_introspection_sees_a_revocation_on_the_next_request(
    client, introspector, tokens, web_app
):
    assert introspect(client, introspector, tokens["access_token"]).json()["active"]
    assert cache.get(token_cache.KEY % checksum(tokens["access_token"])) is not None

    revoked = form_post(
        client,
        REVOKE,
        {"token": tokens["access_token"]},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert revoked.status_code == 200
    assert (
        not get_access_token_model()
        .objects.filter(token_checksum=checksum(tokens["access_token"]))
        .exists()
    )

    assert introspect(client, introspector, tokens["access_token"]).json() == {
        "active": False
    }


def test_introspection_sees_the_application_deactivated(
    client, introspector, tokens, web_app
):
    assert introspect(client, introspector, tokens["access_token"]).json()["active"]

    web_app.is_active = False
    web_app.save()

    assert introspect(client, introspector, tokens["access_token"]).json() == {
        "active": False
    }


def test_a_refresh_token_is_still_introspected(client, introspector, tokens):
    response = introspect(client, introspector, tokens["refresh_token"])

    assert response.json()["active"] is True
    assert response.json()["token_type"] == "refresh_token"


CACHE_CALLS = ("get", "get_many", "set", "set_many", "add", "delete", "delete_many")


@pytest.fixture
def round_trips(monkeypatch):
    """What the server asks the cache: `.calls` lists each call of the cache API
    (the outermost: locmem's get_many calls get), `.sent` each command sent to
    Redis when the cache is Redis; one round trip each."""

    class RoundTrips:
        calls: list[tuple[str, tuple]] = []
        sent: list[object] = []

        def clear(self):
            self.calls.clear()
            self.sent.clear()

    trips = RoundTrips()
    backend = caches["default"]
    depth = 0

    def counted(name, real):
        def call(*args, **kwargs):
            nonlocal depth
            if depth == 0:
                trips.calls.append((name, args))
            depth += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth -= 1

        return call

    for name in CACHE_CALLS:
        monkeypatch.setattr(backend, name, counted(name, getattr(backend, name)))
    real_send = AbstractConnection.send_packed_command

    def send_packed_command(connection, command, *args, **kwargs):
        trips.sent.append(command)
        return real_send(connection, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send_packed_command)
    return trips


def introspect_with_body_credentials(client, introspector, value):
    return form_post(
        client,
        INTROSPECT,
        {
            "token": value,
            "client_id": introspector.client_id,
            "client_secret": introspector.cleartext_secret,
        },
    )


@pytest.mark.parametrize(
    "send", [introspect, introspect_with_body_credentials], ids=["basic", "body"]
)
def test_a_warm_introspection_costs_one_cache_round_trip(
    client, introspector, tokens, round_trips, django_assert_num_queries, send
):
    """The caller's entry, the token's and the epoch lease, in one read."""
    assert send(client, introspector, tokens["access_token"]).json()["active"]
    round_trips.clear()

    with django_assert_num_queries(0):
        response = send(client, introspector, tokens["access_token"])

    assert response.json()["active"] is True
    assert [name for name, _ in round_trips.calls] == ["get_many"]
    (keys,) = round_trips.calls[0][1]
    assert set(keys) == {
        client_key(introspector),
        token_cache.KEY % checksum(tokens["access_token"]),
        token_cache.EPOCH_KEY,
    }
    if isinstance(caches["default"], RedisCache):
        assert len(round_trips.sent) == 1


def test_a_cold_introspection_still_costs_one_read_round_trip(
    client, introspector, tokens, round_trips
):
    """Neither entry cached yet: one read, then each entry added."""
    assert cache.get(client_key(introspector)) is None
    round_trips.clear()

    assert introspect(client, introspector, tokens["access_token"]).json()["active"]

    assert [name for name, _ in round_trips.calls] == ["get_many", "add", "add"]


def test_the_prefetch_ends_with_the_request(client, introspector, tokens):
    introspect(client, introspector, tokens["access_token"])

    assert token_cache._prefetch.get() is None


@pytest.mark.parametrize("stop", REASONS, ids=lambda f: f.__name__)
def test_a_stopped_introspector_is_refused_on_the_next_request(
    client, admin_client, introspector, tokens, stop
):
    """Its entry warm and read in the same round trip as the token's, the
    introspecting client's old credentials are refused at once."""
    client_id, secret = introspector.client_id, introspector.cleartext_secret
    assert introspect(client, introspector, tokens["access_token"]).json()["active"]
    assert isinstance(cache.get(client_key(introspector)), tuple)
    stop(introspector, admin_client)

    response = form_post(
        client, INTROSPECT, {"token": tokens["access_token"]}, auth=(client_id, secret)
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("kill", revocations.REASONS, ids=lambda f: f.__name__)
def test_a_dead_token_is_inactive_on_the_next_introspection(
    client, admin_client, introspector, tokens, reader, web_app, kill
):
    """Both entries warm and read in one round trip, a token that died since is
    `active: false` at once."""
    value = tokens["access_token"]
    assert introspect(client, introspector, value).json()["active"]
    assert isinstance(cache.get(token_cache.KEY % checksum(value)), tuple)
    kill(client, tokens, reader, web_app, admin_client)

    assert introspect(client, introspector, value).json() == {"active": False}


def test_a_lapsed_lease_is_read_once_per_introspection(
    client, introspector, tokens, django_assert_num_queries
):
    """The lease prefetched with both entries is missing: the first lookup reads
    the epoch row and lends it again; the second does not trust the prefetched
    (missing) lease, and reads the fresh one from the cache instead of the row."""
    assert introspect(client, introspector, tokens["access_token"]).json()["active"]
    cache.delete(token_cache.EPOCH_KEY)

    with django_assert_num_queries(1):
        response = introspect(client, introspector, tokens["access_token"])

    assert response.json()["active"] is True


def test_a_revocation_inside_the_block_is_seen(introspector, tokens):
    """A tombstone written after the prefetch read the entries drops the rest:
    the next lookup reads the cache again, not the entry read before."""
    value = tokens["access_token"]
    digest = checksum(value)
    assert token_cache.access_token_get(checksum=digest) is not None  # cached
    with token_cache.prefetched(client_id=introspector.client_id, token=value):
        assert token_cache.application_get(client_id=introspector.client_id)
        get_access_token_model().objects.filter(token_checksum=digest).delete()

        assert token_cache.access_token_get(checksum=digest) is None


def test_each_prefetched_entry_answers_one_lookup(introspector, tokens, round_trips):
    value = tokens["access_token"]
    digest = checksum(value)
    assert token_cache.access_token_get(checksum=digest) is not None  # cached
    round_trips.clear()
    with token_cache.prefetched(token=value):
        assert token_cache.access_token_get(checksum=digest) is not None
        assert token_cache.access_token_get(checksum=digest) is not None

    assert [name for name, _ in round_trips.calls] == ["get_many", "get_many"]


def test_a_bearer_caller_is_read_besides_the_prefetch(
    client, introspector, tokens, round_trips
):
    """A caller presenting its own access token (with the introspection scope)
    names no client to prefetch: its token is read on its own, and the
    introspected token's entry with the lease."""
    own = AccessTokenFactory(user=None, application=introspector, scope="introspection")

    def send():
        return form_post(
            client,
            INTROSPECT,
            {"token": tokens["access_token"]},
            HTTP_AUTHORIZATION=f"Bearer {own.cleartext}",
        )

    assert send().json()["active"] is True
    round_trips.clear()

    assert send().json()["active"] is True
    assert [(name, sorted(keys)) for name, (keys, *_) in round_trips.calls] == [
        (
            "get_many",
            sorted([token_cache.KEY % own.token_checksum, token_cache.EPOCH_KEY]),
        ),
        (
            "get_many",
            sorted(
                [
                    token_cache.KEY % checksum(tokens["access_token"]),
                    token_cache.EPOCH_KEY,
                ]
            ),
        ),
    ]


# --- Local mode: no Redis, one local-memory cache per process --------------------


@pytest.mark.parametrize("stop", REASONS, ids=lambda f: f.__name__)
def test_credentials_stopped_in_another_process_are_refused_on_the_next_request(
    process, client, admin_client, introspector, stop
):
    """Process "a" cached the application; "b" changes it; "a" refuses at once.
    An introspecting client holds no tokens whose revocation would hide a missing
    invalidation of the application's own entry."""
    client_id, secret = introspector.client_id, introspector.cleartext_secret
    with process("a"):
        assert introspect(client, introspector, "no-such-token").status_code == 200
        assert isinstance(cache.get(client_key(introspector)), tuple)
    with process("b"):
        stop(introspector, admin_client)

    with process("a"):
        response = form_post(
            client, INTROSPECT, {"token": "no-such-token"}, auth=(client_id, secret)
        )

    assert response.status_code == 401


def test_a_local_hit_reads_only_the_epoch(
    process, client, machine_app, django_assert_max_num_queries
):
    """The application from the process's memory: one read of the epoch row."""
    with process("a"):
        assert client_credentials(client, machine_app).status_code == 200
        with django_assert_max_num_queries(4) as captured:
            assert client_credentials(client, machine_app).status_code == 200
    reads = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")
    ]
    assert len(reads) == 1
    assert "bearercacheepoch" in reads[0]
