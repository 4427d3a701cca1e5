"""The load generator: client processes x threads, each sending one request at a time.

Every request opens its own connection (gunicorn's sync workers close each one),
waits for the whole answer, and records its latency, status and the server's
`X-Bench-Queries`. Standard library only, so the client costs little CPU.
"""

import base64
import http.client
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

Request = tuple[str, str, dict[str, str], bytes | None]  # method, path, headers, body


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def form(data: dict[str, str]) -> bytes:
    return urlencode(data).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def scenario_requests(name: str, creds: dict) -> Callable[[int, int], Request | None]:
    """`make(thread_index, n)`: the n-th request of one client thread (None: done)."""
    bearer = {"Authorization": f"Bearer {creds['bearer']}"}
    if name == "floor":
        return lambda t, n: ("GET", "/bench/floor/", {}, None)
    if name == "token":
        headers = {**FORM, "Authorization": basic(*creds["machine"])}
        body = form({"grant_type": "client_credentials"})
        return lambda t, n: ("POST", "/o/token/", headers, body)
    if name == "list":
        return lambda t, n: ("GET", "/api/v1/books/", bearer, None)
    if name == "list_open":
        return lambda t, n: ("GET", "/bench/v1/books/", {}, None)
    if name == "introspect":
        headers = {**FORM, "Authorization": basic(*creds["introspector"])}
        body = form({"token": creds["bearer"]})
        return lambda t, n: ("POST", "/o/introspect/", headers, body)
    if name == "userinfo":
        return lambda t, n: ("GET", "/o/userinfo/", bearer, None)
    if name == "refresh":
        headers = {**FORM, "Authorization": basic(*creds["web"])}
        pool = creds["refresh_slices"]

        def refresh(t: int, n: int) -> Request | None:
            tokens = pool[t]
            if n >= len(tokens):
                return None
            body = form({"grant_type": "refresh_token", "refresh_token": tokens[n]})
            return ("POST", "/o/token/", headers, body)

        return refresh
    raise ValueError(f"unknown scenario {name!r}")


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    queries: list[int] = field(default_factory=list)


def _thread(host, port, make, thread_index, deadline, out: Samples) -> None:
    n = 0
    while time.perf_counter() < deadline:
        request = make(thread_index, n)
        if request is None:
            return
        method, path, headers, body = request
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            count = response.getheader("X-Bench-Queries")
            conn.close()
        except OSError:
            status, count = 0, None  # connection refused or reset: an error
        out.latencies.append(time.perf_counter() - start)
        out.statuses[status] = out.statuses.get(status, 0) + 1
        if count is not None:
            out.queries.append(int(count))
        n += 1


def _process(args) -> Samples:
    host, port, name, creds, first_thread, threads, start_at, seconds = args
    make = scenario_requests(name, creds)
    while time.time() < start_at:  # every process starts together
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    samples = [Samples() for _ in range(threads)]
    workers = [
        threading.Thread(
            target=_thread,
            args=(host, port, make, first_thread + i, deadline, samples[i]),
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged = Samples()
    for s in samples:
        merged.latencies += s.latencies
        merged.queries += s.queries
        for status, count in s.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
    return merged


def run(host, port, name, creds, clients: int, seconds: float) -> dict:
    """Drive one scenario with `clients` concurrent clients for `seconds`."""
    processes = min(clients, 4)
    per_process = clients // processes
    start_at = time.time() + 0.3
    jobs = [
        (host, port, name, creds, p * per_process, per_process, start_at, seconds)
        for p in range(processes)
    ]
    began = time.perf_counter()
    with multiprocessing.Pool(processes) as pool:
        parts = pool.map(_process, jobs)
    elapsed = time.perf_counter() - began - 0.3
    merged = Samples()
    for part in parts:
        merged.latencies += part.latencies
        merged.queries += part.queries
        for status, count in part.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
    latencies = sorted(merged.latencies)
    total = len(latencies)

    def percentile(p: float) -> float:
        return latencies[min(total - 1, int(p * total))] * 1000 if total else 0.0

    ok = merged.statuses.get(200, 0)
    return {
        "scenario": name,
        "clients": clients,
        "requests": total,
        "rps": ok / min(elapsed, seconds) if total else 0.0,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "errors": total - ok,
        "server_errors": sum(
            c for s, c in merged.statuses.items() if s >= 500 or s == 0
        ),
        "statuses": {str(s): c for s, c in sorted(merged.statuses.items())},
        "queries_per_request": (
            sum(merged.queries) / len(merged.queries) if merged.queries else None
        ),
    }
