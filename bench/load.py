"""The load generator: client processes x threads, each sending one request at a time.

Every request opens its own connection (gunicorn's sync workers close each one)
and waits for the whole answer; each iteration (one request, or the two of the code
flow) records its latency, final status and the server's `X-Bench-Queries`. Standard library only, so the client costs little CPU.
"""

import base64
import hashlib
import http.client
import multiprocessing
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

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


FLOW_BROKE = 1  # the status recorded when the authorize step gave no code
Send = Callable[[Request], tuple[int, dict[str, str], int]]


def code_flow(creds: dict) -> Callable[[int, int, Send], tuple[int, int] | None]:
    """Authorization code + PKCE with consent on record: authorize, then token.

    Signed in (the seeded session) and with remembered consent, `prompt=none`: the
    redirect carries a code at once, as for a single-page app's silent sign-in.
    """
    client_id, secret = creds["spa"]
    cookie = {"Cookie": f"{creds['session_cookie']}={creds['session']}"}
    token_headers = {**FORM, "Authorization": basic(client_id, secret)}
    redirect_uri = "https://client.example/callback"

    def flow(t: int, n: int, send: Send) -> tuple[int, int]:
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid books:read",
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                # Consent on record answers without a page only when the client
                # asks for no interaction (REQUEST_APPROVAL_PROMPT is "force").
                "prompt": "none",
            }
        )
        status, headers, queries = send(("GET", f"/o/authorize/?{query}", cookie, None))
        location = headers.get("location", "")
        code = parse_qs(urlsplit(location).query).get("code", [None])[0]
        if status != 302 or code is None:
            return FLOW_BROKE, queries
        body = form(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )
        status, _headers, more = send(("POST", "/o/token/", token_headers, body))
        return status, queries + more

    return flow


def steps(name: str, creds: dict) -> Callable[[int, int, Send], tuple[int, int] | None]:
    """One iteration of a client thread: its final status and the queries it cost."""
    if name == "code_flow":
        return code_flow(creds)
    make = scenario_requests(name, creds)

    def step(t: int, n: int, send: Send) -> tuple[int, int] | None:
        request = make(t, n)
        if request is None:
            return None
        status, _headers, queries = send(request)
        return status, queries

    return step


def send_over(host: str, port: int) -> Send:
    def send(request: Request) -> tuple[int, dict[str, str], int]:
        method, path, headers, body = request
        try:
            conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
        except OSError:
            return 0, {}, 0  # refused or reset: an error
        answer = {k.lower(): v for k, v in response.getheaders()}
        return response.status, answer, int(answer.get("x-bench-queries", 0))

    return send


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    queries: list[int] = field(default_factory=list)


def _thread(host, port, step, thread_index, deadline, out: Samples) -> None:
    send = send_over(host, port)
    n = 0
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        result = step(thread_index, n, send)
        if result is None:
            return
        status, queries = result
        out.latencies.append(time.perf_counter() - start)
        out.statuses[status] = out.statuses.get(status, 0) + 1
        out.queries.append(queries)
        n += 1


def _process(args) -> Samples:
    host, port, name, creds, first_thread, threads, start_at, seconds = args
    step = steps(name, creds)
    while time.time() < start_at:  # every process starts together
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    samples = [Samples() for _ in range(threads)]
    workers = [
        threading.Thread(
            target=_thread,
            args=(host, port, step, first_thread + i, deadline, samples[i]),
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
