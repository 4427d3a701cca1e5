"""Recording many requests from several threads: outcomes, timings, acknowledged writes."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import requests


@dataclass(frozen=True)
class Outcome:
    at: float  # time.monotonic() when the answer came
    kind: str  # what was asked: "read", "write", "token", ...
    status: int  # 0: no HTTP answer at all
    detail: str = ""


@dataclass
class Recorder:
    """Thread-safe log of outcomes, and of the writes the server acknowledged."""

    outcomes: list[Outcome] = field(default_factory=list)
    acknowledged_isbns: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(
        self, kind: str, send: Callable[[], requests.Response]
    ) -> requests.Response | None:
        try:
            response = send()
        except requests.RequestException as error:
            self.add(Outcome(time.monotonic(), kind, 0, type(error).__name__))
            return None
        detail = response.text[:200] if response.status_code >= 500 else ""
        self.add(Outcome(time.monotonic(), kind, response.status_code, detail))
        return response

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def acknowledge(self, isbn: str) -> None:
        with self._lock:
            self.acknowledged_isbns.append(isbn)

    def statuses(self, kind: str | None = None) -> Counter:
        return Counter(o.status for o in self.outcomes if kind in (None, o.kind))

    def failures(self, kind: str | None = None) -> list[Outcome]:
        """No answer, or a 5xx."""
        return [
            o
            for o in self.outcomes
            if kind in (None, o.kind) and (o.status == 0 or o.status >= 500)
        ]


def run_for(seconds: float, workers: dict[str, Callable[[], None]]) -> float:
    """Run each worker in a loop on its own thread for `seconds`; the real duration."""
    deadline = time.monotonic() + seconds
    errors: list[BaseException] = []

    def loop(step: Callable[[], None]) -> None:
        try:
            while time.monotonic() < deadline:
                step()
        except BaseException as error:  # surfaced below, not lost in a thread
            errors.append(error)

    threads = [
        threading.Thread(target=loop, args=(step,), name=name)
        for name, step in workers.items()
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.monotonic() - started


def missing_books(database_url: str, isbns: list[str]) -> list[str]:
    """The ISBNs of `isbns` with no book row in the cluster's database."""
    with psycopg.connect(database_url) as conn:
        found = {
            row[0]
            for row in conn.execute(
                "SELECT isbn FROM resources_book WHERE isbn = ANY(%s)", [isbns]
            )
        }
    return sorted(set(isbns) - found)
