"""The cluster under test: `deploy.cluster` started once per session.

On the local PostgreSQL (database `bookshelf_cluster_test`, created and dropped
here) and Redis database 2 (keys under a prefix of this run), on free ports so a
running `make cluster` is left alone. Fault tests start their own cluster on
private service instances (test_faults.py).
"""

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.cluster import REPO_DIR, Cluster, ClusterConfig, database_drop
from tests.cluster.flows import Node, app_node, proxy_node
from tests.cluster.services import free_port

TEST_DIRECTORY = REPO_DIR / "var" / "cluster-test"
DATABASE_URL = os.environ.get(
    "CLUSTER_TEST_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/bookshelf_cluster_test",
)
REDIS_URL = os.environ.get("CLUSTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
# Generous API rates: the load test must not be throttled, except review writes,
# which the throttle test counts.
REVIEW_WRITES_PER_HOUR = 5
RATES = {
    "API_RATE_PER_APPLICATION": "1000000/hour",
    "API_RATE_PER_USER": "1000000/hour",
    "API_RATE_CATALOGUE_WRITES": "1000000/hour",
    "API_RATE_REVIEW_WRITES": f"{REVIEW_WRITES_PER_HOUR}/hour",
    # Sign-in lockout after this many failures per account (django-axes).
    "LOGIN_FAILURES_PER_ACCOUNT": "3",
}
FIGURES = TEST_DIRECTORY / "figures.json"


def cluster_config(
    name: str, *, database_url: str, redis_url: str, **environment: str
) -> ClusterConfig:
    return ClusterConfig(
        directory=TEST_DIRECTORY / name,
        proxy_port=free_port(),
        app_ports=(free_port(), free_port()),
        database_url=database_url,
        redis_url=redis_url,
        environment={
            **RATES,
            "CACHE_KEY_PREFIX": f"cluster-test-{secrets.token_hex(4)}",
            **environment,
        },
    )


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    config = cluster_config("shared", database_url=DATABASE_URL, redis_url=REDIS_URL)
    database_drop(config.database_url)  # left over by a run that was killed
    try:
        with Cluster(config) as running:
            yield running
    finally:
        database_drop(config.database_url)


@pytest.fixture(scope="session")
def proxy(cluster) -> Node:
    return proxy_node(cluster)


@pytest.fixture(scope="session")
def instances(cluster) -> tuple[Node, Node]:
    """App servers A and B, addressed directly."""
    first, second = cluster.config.app_ports
    return app_node(cluster, first), app_node(cluster, second)


class Figures:
    """Measurements of this run, printed at the end and kept in figures.json."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, object] = {}

    def record(self, name: str, value: object) -> None:
        self.values[name] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.values, indent=2))


_figures = Figures(FIGURES)


@pytest.fixture(scope="session")
def figures() -> Figures:
    return _figures


def pytest_terminal_summary(terminalreporter) -> None:
    if _figures.values:
        terminalreporter.section("cluster figures")
        for name, value in _figures.values.items():
            terminalreporter.write_line(f"{name}: {value}")
