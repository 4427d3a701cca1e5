"""Faults: Redis stopped, PostgreSQL restarted, an app server killed under load.

This module's cluster runs on a private redis-server and a private PostgreSQL
cluster (initdb in a temporary directory), so stopping them disturbs nobody else.
Each recovery time goes to the run's figures (printed at the end).
"""

import itertools
import time
from pathlib import Path

import pytest

from deploy.cluster import Cluster
from tests.cluster.conftest import cluster_config
from tests.cluster.flows import (
    BookNumbers,
    bearer,
    proxy_node,
    seed,
    token,
    user_tokens,
)
from tests.cluster.load import Recorder, missing_books, run_for
from tests.cluster.services import PrivatePostgres, PrivateRedis

pytestmark = pytest.mark.cluster
POLL = 0.1


@pytest.fixture(scope="module")
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def private_postgres():
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def fault_cluster(private_redis, private_postgres):
    config = cluster_config(
        "faults",
        database_url=private_postgres.url("bookshelf_faults"),
        redis_url=private_redis.url,
    )
    with Cluster(config) as running:
        yield running


@pytest.fixture(scope="module")
def node(fault_cluster):
    return proxy_node(fault_cluster)


@pytest.fixture(scope="module")
def apps(fault_cluster):
    return seed(fault_cluster, users=["frank"], load_clients=1)


def issue_and_read(node, apps) -> tuple[int, int]:
    """A client-credentials token from the proxy, then an API read with it."""
    issued = token(node, apps["apps"]["cc0"], grant_type="client_credentials")
    if issued.status_code != 200:
        return issued.status_code, 0
    read = bearer(node, issued.json()["access_token"], "GET", "/api/v1/books/")
    return issued.status_code, read.status_code


def log_text(cluster: Cluster) -> str:
    return "".join(
        path.read_text(errors="replace")
        for path in Path(cluster.logs).glob("app-*.log")
    )


def test_redis_stopped_degrades_and_recovers(
    fault_cluster, node, apps, private_redis, figures
):
    """Without Redis tokens are issued and accepted; the outage is logged once per
    process, and the cache is used again as soon as Redis is back."""
    assert issue_and_read(node, apps) == (200, 200)
    outage_lines_before = log_text(fault_cluster).count("cache unreachable")

    private_redis.stop()
    results = [issue_and_read(node, apps) for _ in range(15)]
    assert results == [(200, 200)] * 15
    logged = log_text(fault_cluster).count("cache unreachable") - outage_lines_before
    worker_processes = len(fault_cluster.apps) * fault_cluster.config.workers
    # 30 requests, at most one line per worker process that served one.
    assert 1 <= logged <= worker_processes

    private_redis.start()
    restarted = time.monotonic()
    redis = private_redis.client()
    while redis.dbsize() == 0:  # the next request's throttle history lands in Redis
        assert time.monotonic() - restarted < 30, "the cache was not used again"
        assert issue_and_read(node, apps) == (200, 200)
        time.sleep(POLL)
    figures.record(
        "redis: seconds from restart to throttle counts in Redis again",
        round(time.monotonic() - restarted, 2),
    )
    figures.record("redis: outage log lines (4 worker processes, 30 requests)", logged)


def test_postgres_restart_is_a_clean_503_then_recovers(
    fault_cluster, node, apps, private_postgres, figures
):
    """While PostgreSQL is down every answer that needs it is a JSON 503; after it
    returns, requests succeed again on the same app server processes."""
    pids = {port: process.pid for port, process in fault_cluster.apps.items()}
    issued = token(node, apps["apps"]["cc0"], grant_type="client_credentials")
    access = issued.json()["access_token"]
    assert bearer(node, access, "GET", "/api/v1/books/").status_code == 200

    # Each probe asks a page nobody asked before: a cached list page (the list
    # cache, on with Redis) would be served without the database.
    probes = (f"/api/v1/books/?search=probe-{n}" for n in itertools.count())
    private_postgres.stop()
    stopped = time.monotonic()
    during = [bearer(node, access, "GET", next(probes)) for _ in range(6)] + [
        token(node, apps["apps"]["cc0"], grant_type="client_credentials")
    ]
    assert [r.status_code for r in during] == [503] * len(during)
    assert all(r.json()["error"] == "temporarily_unavailable" for r in during)
    assert all(r.headers["Retry-After"] == "5" for r in during)

    private_postgres.start()
    started = time.monotonic()
    while bearer(node, access, "GET", next(probes)).status_code != 200:
        assert time.monotonic() - started < 30, "no recovery after the restart"
        time.sleep(POLL)
    recovered = time.monotonic()
    assert issue_and_read(node, apps) == (200, 200)
    assert {p: process.pid for p, process in fault_cluster.apps.items()} == pids
    assert all(process.poll() is None for process in fault_cluster.apps.values())
    figures.record(
        "postgres: seconds from restart to the first 200",
        round(recovered - started, 2),
    )
    figures.record(
        "postgres: seconds down as seen by clients", round(recovered - stopped, 2)
    )


def test_app_server_killed_under_load_fails_over(
    fault_cluster, node, apps, private_postgres, figures
):
    """SIGKILL one app server while reads and writes flow through the proxy: reads
    never fail (nginx retries them on the other), at most the writes in flight on
    the killed one fail, and every acknowledged write is in the database."""
    user = user_tokens(node, apps["apps"]["web"], "frank")["access_token"]
    numbers = BookNumbers(start=700_000)
    recorder = Recorder()
    writers = 2

    def write() -> None:
        book = numbers.book(apps["author"])
        response = recorder.call(
            "write", lambda: bearer(node, user, "POST", "/api/v1/books/", json=book)
        )
        if response is not None and response.status_code == 201:
            recorder.acknowledge(book["isbn"])

    def read() -> None:
        recorder.call("read", lambda: bearer(node, user, "GET", "/api/v1/books/"))

    victim = fault_cluster.config.app_ports[0]
    killed_at: list[float] = []

    def kill_once() -> None:
        time.sleep(3)
        if not killed_at:
            fault_cluster.kill_app(victim)
            killed_at.append(time.monotonic())
        time.sleep(POLL)

    workers = {f"writer-{n}": write for n in range(writers)}
    duration = run_for(9, {**workers, "reader": read, "killer": kill_once})

    failed_writes = recorder.failures("write")
    assert recorder.failures("read") == []
    assert len(failed_writes) <= writers, failed_writes
    assert all(o.status in (0, 502) for o in failed_writes)
    assert recorder.statuses("write")[201] > 0
    assert (
        missing_books(
            private_postgres.url("bookshelf_faults"), recorder.acknowledged_isbns
        )
        == []
    )

    # Back in service: restarted, it answers, and the proxy sends it requests again.
    restarted = time.monotonic()
    fault_cluster.start_app(victim)
    fault_cluster.wait_app(victim)
    serving = time.monotonic()
    access_log = Path(fault_cluster.logs) / "nginx-access.log"
    before = access_log.read_text().count(f"upstream=127.0.0.1:{victim} ")
    while access_log.read_text().count(f"upstream=127.0.0.1:{victim} ") == before:
        assert time.monotonic() - serving < 30, "the proxy never used it again"
        assert bearer(node, user, "GET", "/api/v1/books/").status_code == 200
        time.sleep(POLL)
    failures_after_kill = [o.at - killed_at[0] for o in recorder.failures()]
    figures.record(
        "app kill: load",
        {
            "seconds": round(duration, 1),
            "requests": len(recorder.outcomes),
            "acknowledged writes": len(recorder.acknowledged_isbns),
            "failed writes (in flight on the killed server)": len(failed_writes),
            "failed reads": 0,
        },
    )
    figures.record(
        "app kill: seconds from kill to the last failed request",
        round(max(failures_after_kill, default=0.0), 2),
    )
    figures.record(
        "app kill: seconds to restart the killed server / back in rotation",
        (round(serving - restarted, 2), round(time.monotonic() - restarted, 2)),
    )
