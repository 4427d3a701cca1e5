"""A token revoked while no process reaches Redis is refused by every process after.

The app servers reach a private redis-server through a TCP link the test cuts:
Redis keeps the entries cached before the outage (it is never stopped), so the
lost tombstone is replaced only by the epoch the revoking process wrote to the
database (oauth_server/token_cache.py).
"""

import time
from collections.abc import Iterator

import pytest

from deploy.cluster import Cluster, database_drop
from tests.cluster.conftest import DATABASE_URL as SHARED_DATABASE_URL
from tests.cluster.conftest import cluster_config
from tests.cluster.flows import (
    Node,
    app_node,
    auth,
    bearer,
    proxy_node,
    seed,
    user_tokens,
)
from tests.cluster.services import CuttableLink, PrivateRedis

pytestmark = pytest.mark.cluster
# The shared cluster's database name, suffixed: this module runs its own cluster.
DATABASE_URL = f"{SHARED_DATABASE_URL}_outage"
BOOKS = "/api/v1/books/"
EPOCH_SECONDS = 1  # bearer_cache_epoch_seconds, the default


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def link(private_redis) -> Iterator[CuttableLink]:
    link = CuttableLink(private_redis.port)
    link.restore()
    yield link
    link.cut()


@pytest.fixture(scope="module")
def outage_cluster(link) -> Iterator[Cluster]:
    config = cluster_config(
        "cache-outage",
        database_url=DATABASE_URL,
        redis_url=f"redis://127.0.0.1:{link.port}/0",
    )
    database_drop(config.database_url)  # left over by a run that was killed
    try:
        with Cluster(config) as running:
            yield running
    finally:
        database_drop(config.database_url)


@pytest.fixture(scope="module")
def web(outage_cluster) -> dict:
    return seed(outage_cluster, users=["alice"], load_clients=0)["apps"]["web"]


def refused(response) -> bool:
    return (
        response.status_code == 401
        and 'error="invalid_token"' in response.headers.get("WWW-Authenticate", "")
    )


def bearer_entries(private_redis) -> list[bytes]:
    """Cached tokens: not the epoch lease, not the applications of client
    authentication (`bearer:client:`)."""
    keys = private_redis.client().keys("*bearer:*")
    return [k for k in keys if b"epoch" not in k and b"bearer:client:" not in k]


def test_token_revoked_during_an_outage_is_refused_by_every_process_after(
    outage_cluster, web, link, private_redis
):
    """Revoked through A while Redis is unreachable: B and A refuse it on return."""
    proxy: Node = proxy_node(outage_cluster)
    a, b = (app_node(outage_cluster, port) for port in outage_cluster.config.app_ports)
    access = user_tokens(proxy, web, "alice")["access_token"]
    for _ in range(4):  # B's worker processes cache it
        assert bearer(b, access, "GET", BOOKS).status_code == 200
    assert len(bearer_entries(private_redis)) == 1

    link.cut()
    revoked = a.session().post(
        a.url("/o/revoke/"), data={"token": access}, auth=auth(web), timeout=20
    )
    assert revoked.status_code == 200
    time.sleep(EPOCH_SECONDS)  # longer than the lease the others read before
    link.restore()
    assert len(bearer_entries(private_redis)) == 1  # the stale entry, still there

    assert all(refused(bearer(b, access, "GET", BOOKS)) for _ in range(4))
    assert all(refused(bearer(a, access, "GET", BOOKS)) for _ in range(4))
