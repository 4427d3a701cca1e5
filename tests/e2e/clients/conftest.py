"""Real servers on loopback ports chosen at runtime.

The authorization server is pytest-django's `live_server` (a thread of this process,
on the test database, so tests can reach into the DB to force expiry). The web client
runs as a subprocess with its own settings module (`clients.web.settings`): two
Django settings cannot share one process. The resource API is `FakeBooksAPI` until
the real one is merged here; only the `api_url` fixture names it.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.e2e.clients.browser import Browser
from tests.e2e.clients.fake_api import FakeBooksAPI
from tests.factories import ApplicationFactory, UserFactory

# Both servers on 127.0.0.1, as in `make run`: one host, one cookie jar, two ports.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

REPO = Path(__file__).resolve().parents[3]
WEB_CLIENT_ID = "bookshelf-web-e2e"
WEB_CLIENT_SECRET = secrets.token_urlsafe(32)
CLI_CLIENT_ID = "bookshelf-cli-e2e"
MACHINE_CLIENT_ID = "catalogue-sync-e2e"
MACHINE_SECRET = secrets.token_urlsafe(32)
API_CLIENT_ID = "resource-server-e2e"
API_SECRET = secrets.token_urlsafe(32)
PASSWORD = "correct horse battery"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class WebClient:
    url: str
    var_dir: Path
    process: subprocess.Popen


def start_web_client(*, issuer: str, api_url: str, var_dir: Path) -> WebClient:
    """`python -m clients.web runserver` on a free port; waits until it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CLIENT_ISSUER": issuer,
        "CLIENT_ID": WEB_CLIENT_ID,
        "CLIENT_SECRET": WEB_CLIENT_SECRET,
        "CLIENT_REDIRECT_URI": f"{url}/callback",
        "CLIENT_API_URL": api_url,
        "CLIENT_VAR_DIR": str(var_dir),
        "CLIENT_HTTP_TIMEOUT": "10",
    }
    log = (var_dir / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clients.web",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((var_dir / "server.log").read_text())
        try:
            requests.get(url + "/", timeout=1)
            return WebClient(url, var_dir, process)
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the web client did not start")


def stop(client: WebClient) -> None:
    client.process.terminate()
    client.process.wait(timeout=10)


@pytest.fixture(scope="session")
def issuer(live_server) -> str:
    return live_server.url


@pytest.fixture(scope="session")
def fake_api(issuer) -> Iterator[FakeBooksAPI]:
    api = FakeBooksAPI(
        introspection_url=f"{issuer}/o/introspect/",
        client_id=API_CLIENT_ID,
        secret=API_SECRET,
    )
    yield api
    api.stop()


@pytest.fixture
def api(fake_api) -> Iterator[FakeBooksAPI]:
    fake_api.reviews.clear()
    yield fake_api
    fake_api.down = False


@pytest.fixture(scope="session")
def api_url(fake_api) -> str:
    """Where the clients find the resource API (the real one: `live_server.url`)."""
    return fake_api.url


@pytest.fixture(scope="session")
def web_client(issuer, api_url, tmp_path_factory) -> Iterator[WebClient]:
    client = start_web_client(
        issuer=issuer, api_url=api_url, var_dir=tmp_path_factory.mktemp("web-client")
    )
    yield client
    stop(client)


@pytest.fixture
def world(live_server, web_client, api):
    """What `loaddemo` registers, for these ports: a user and the three clients.

    Function-scoped: `live_server` tests run on `transactional_db`, flushed after
    each test.
    """
    user = UserFactory(username="alice", email="alice@example.com", password=PASSWORD)
    ApplicationFactory(
        name="Bookshelf",
        client_id=WEB_CLIENT_ID,
        client_secret=WEB_CLIENT_SECRET,
        redirect_uris=f"{web_client.url}/callback",
        post_logout_redirect_uris=f"{web_client.url}/",
        allowed_scopes="openid profile email books:read books:write",
    )
    ApplicationFactory(
        name="Bookshelf CLI",
        client_id=CLI_CLIENT_ID,
        client_type="public",
        authorization_grant_type=DEVICE_GRANT,
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="openid profile books:read books:write",
    )
    ApplicationFactory(
        name="Catalogue sync",
        client_id=MACHINE_CLIENT_ID,
        client_secret=MACHINE_SECRET,
        authorization_grant_type="client-credentials",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    ApplicationFactory(
        name="Resource server",
        client_id=API_CLIENT_ID,
        client_secret=API_SECRET,
        authorization_grant_type="client-credentials",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="introspection",
    )
    return user


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.fixture
def dot_settings(oauth2_settings_override):
    """`oauth2_settings_override` that also reaches the live server's views.

    DOT caches one oauthlib server per view class (`_oauthlib_core`), built with the
    settings of its first request; rebuild it per request during the test, and drop
    the caches afterwards so the override does not leak into later tests.
    """
    from oauth2_provider.views.mixins import OAuthLibMixin

    def override(**values):
        oauth2_settings_override(ALWAYS_RELOAD_OAUTHLIB_CORE=True, **values)

    yield override
    for view in _subclasses(OAuthLibMixin):
        if "_oauthlib_core" in vars(view):
            delattr(view, "_oauthlib_core")


@pytest.fixture
def visitor() -> Browser:
    return Browser()
