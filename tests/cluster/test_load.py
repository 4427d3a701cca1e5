"""A bounded mixed workload through the proxy: no 5xx, no lost write, no live revoked token."""

import os
import random
import threading

import pytest

from tests.cluster.flows import BookNumbers, auth, bearer, seed, token, user_tokens
from tests.cluster.load import Recorder, missing_books, run_for

pytestmark = pytest.mark.cluster
SECONDS = float(os.environ.get("CLUSTER_LOAD_SECONDS", "20"))
ISSUING_CLIENTS = 3
WRITERS = ["writer1", "writer2"]
REFRESHERS = ["refresher1"]
# Statuses each kind of request may answer with; anything else fails the test.
EXPECTED = {
    "token": {200},
    "read": {200},
    "write": {201},
    "introspect": {200},
    "refresh": {200},
    "revoke": {200},
    "revoked use": {401},
}


def test_mixed_load_through_the_proxy(cluster, proxy, instances, figures):
    """Token issuance by several clients, API reads and writes, introspection,
    refresh and revocation, for a fixed time: every answer is one we expect."""
    seeded = seed(cluster, users=WRITERS + REFRESHERS, load_clients=ISSUING_CLIENTS)
    apps = seeded["apps"]
    issuing = [apps[f"cc{n}"] for n in range(ISSUING_CLIENTS)]
    recorder = Recorder()
    numbers = BookNumbers(start=100_000)
    recent_tokens: list[str] = []
    revoked: list[str] = []
    lock = threading.Lock()
    writer_tokens = {
        name: user_tokens(proxy, apps["web"], name)["access_token"] for name in WRITERS
    }
    refresh_chain = {"tokens": user_tokens(proxy, apps["web"], REFRESHERS[0])}
    local = threading.local()

    def session():
        """One HTTP session per thread (requests sessions are not thread-safe)."""
        if not hasattr(local, "http"):
            local.http = proxy.session()
        return local.http

    def issue_and_read() -> None:
        http = session()
        app = random.choice(issuing)
        response = recorder.call(
            "token", lambda: token(proxy, app, http, grant_type="client_credentials")
        )
        if response is None or response.status_code != 200:
            return
        access = response.json()["access_token"]
        with lock:
            recent_tokens.append(access)
            del recent_tokens[:-50]
        recorder.call(
            "read", lambda: bearer(proxy, access, "GET", "/api/v1/books/", http)
        )

    def write(name: str):
        def step() -> None:
            http = session()
            book = numbers.book(seeded["author"])
            response = recorder.call(
                "write",
                lambda: bearer(
                    proxy,
                    writer_tokens[name],
                    "POST",
                    "/api/v1/books/",
                    http,
                    json=book,
                ),
            )
            if response is not None and response.status_code == 201:
                recorder.acknowledge(book["isbn"])
                recorder.call(
                    "read",
                    lambda: bearer(
                        proxy,
                        writer_tokens[name],
                        "GET",
                        f"/api/v1/books/{response.json()['id']}/",
                        http,
                    ),
                )

        return step

    def introspect() -> None:
        http = session()
        with lock:
            candidates = list(recent_tokens)
        if not candidates:
            return
        recorder.call(
            "introspect",
            lambda: http.post(
                proxy.url("/o/introspect/"),
                data={"token": random.choice(candidates)},
                auth=auth(apps["rs"]),
                timeout=20,
            ),
        )

    def refresh() -> None:
        http = session()
        current = refresh_chain["tokens"]
        response = recorder.call(
            "refresh",
            lambda: token(
                proxy,
                apps["web"],
                http,
                grant_type="refresh_token",
                refresh_token=current["refresh_token"],
            ),
        )
        if response is not None and response.status_code == 200:
            refresh_chain["tokens"] = response.json()
            recorder.call(
                "read",
                lambda: bearer(
                    proxy,
                    response.json()["access_token"],
                    "GET",
                    "/api/v1/stats/",
                    http,
                ),
            )

    def revoke() -> None:
        http = session()
        app = random.choice(issuing)
        response = recorder.call(
            "token", lambda: token(proxy, app, http, grant_type="client_credentials")
        )
        if response is None or response.status_code != 200:
            return
        access = response.json()["access_token"]
        revoked_now = recorder.call(
            "revoke",
            lambda: http.post(
                proxy.url("/o/revoke/"),
                data={"token": access},
                auth=auth(app),
                timeout=20,
            ),
        )
        if revoked_now is not None and revoked_now.status_code == 200:
            with lock:
                revoked.append(access)
            recorder.call(
                "revoked use",
                lambda: bearer(proxy, access, "GET", "/api/v1/books/", http),
            )

    workers = {
        "issuer-1": issue_and_read,
        "issuer-2": issue_and_read,
        **{name: write(name) for name in WRITERS},
        "introspector": introspect,
        "refresher": refresh,
        "revoker": revoke,
    }
    duration = run_for(SECONDS, workers)

    unexpected = [
        o for o in recorder.outcomes if o.status not in EXPECTED.get(o.kind, set())
    ]
    figures.record(
        "load",
        {
            "seconds": round(duration, 1),
            "threads": len(workers),
            "requests": len(recorder.outcomes),
            "requests per second": round(len(recorder.outcomes) / duration, 1),
            "5xx or no answer": len(recorder.failures()),
            "statuses": dict(sorted(recorder.statuses().items())),
            "acknowledged writes": len(recorder.acknowledged_isbns),
            "revoked tokens": len(revoked),
        },
    )
    assert recorder.failures() == []
    assert unexpected == []
    assert recorder.acknowledged_isbns
    assert revoked
    assert missing_books(cluster.config.database_url, recorder.acknowledged_isbns) == []
    # Every revoked token, asked again on each app server directly.
    still_accepted = [
        access
        for access in revoked
        for node in instances
        if bearer(node, access, "GET", "/api/v1/books/").status_code != 401
    ]
    assert still_accepted == []
