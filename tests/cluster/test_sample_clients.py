"""The sample CLI against the cluster, trusting the generated CA as docs/cluster.md says."""

import os
import subprocess
import sys

import pytest

from deploy.cluster import REPO_DIR
from tests.cluster.flows import seed

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def machine(cluster):
    return seed(cluster, users=[], load_clients=1)["apps"]["cc0"]


def cli(cluster, app: dict, *args: str, ca: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CLIENT_ISSUER": cluster.config.issuer,
        "CLIENT_ID": app["client_id"],
        "CLIENT_SECRET": app["client_secret"],
        "REQUESTS_CA_BUNDLE": ca,
    }
    return subprocess.run(
        [sys.executable, "-m", "clients.cli", "--client-credentials", *args],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_reads_the_catalogue_through_the_proxy(cluster, machine):
    """Client credentials through nginx's TLS, with the cluster's CA."""
    done = cli(cluster, machine, "books", "list", ca=str(cluster.config.ca_certificate))

    assert done.returncode == 0, done.stderr


def test_cli_refuses_the_proxy_without_the_ca(cluster, machine):
    """The CA is what makes it work: the system bundle does not trust the proxy."""
    done = cli(
        cluster, machine, "books", "list", ca="/etc/ssl/certs/ca-certificates.crt"
    )

    assert done.returncode == 3, (done.returncode, done.stderr)  # unreachable
    assert "TLS certificate is not trusted" in done.stderr  # not "is it running?"
