"""Parallel requests against the live server, released together by a barrier.

One-time credentials must stay one-time when several requests race for them: these
helpers send real HTTP requests from threads (each with its own connection, so each
is its own server thread and database transaction), not the test client in one
transaction.
"""

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.conftest import REQUEST_DEFAULTS

TIMEOUT = 30
# Under the production profile, speak as the TLS proxy does.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"} if REQUEST_DEFAULTS else {}


def post(url: str, data: dict[str, str], **kwargs: object) -> requests.Response:
    """One form POST as a client sends it (through the proxy in production)."""
    headers = {**PROXY_HEADERS, **kwargs.pop("headers", {})}
    return requests.post(url, data=data, headers=headers, timeout=TIMEOUT, **kwargs)


def race(
    url: str,
    bodies: Sequence[dict[str, str]],
    *,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> list[requests.Response]:
    """POST each body at the same moment from its own thread; responses in order."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, str]) -> requests.Response:
        with requests.Session() as session:
            barrier.wait(timeout=TIMEOUT)
            return session.post(
                url,
                data=body,
                auth=auth,
                headers={**PROXY_HEADERS, **(headers or {})},
                timeout=TIMEOUT,
            )

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))
