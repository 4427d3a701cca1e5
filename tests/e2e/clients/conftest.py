"""Real servers on loopback ports chosen at runtime.

The authorization server and the resource API are pytest-django's `live_server` (a
thread of this process, on the test database, so tests can seed the catalogue, force
expiry and read back what the API wrote). The web client runs as a subprocess with
its own settings module (`clients.web.settings`): two Django settings cannot share
one process.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.contenttypes.models import ContentType

from resources import groups
from resources.models import Book
from tests.e2e.clients.browser import Browser
from tests.factories import (
    ApplicationFactory,
    AuthorFactory,
    BookFactory,
    ReviewFactory,
    UserFactory,
)

# Both servers on 127.0.0.1, as in `make run`: one host, one cookie jar, two ports.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

REPO = Path(__file__).resolve().parents[3]
WEB_CLIENT_ID = "marginalia-web-e2e"
WEB_CLIENT_SECRET = secrets.token_urlsafe(32)
CLI_CLIENT_ID = "marginalia-cli-e2e"
MACHINE_CLIENT_ID = "catalogue-sync-e2e"
MACHINE_SECRET = secrets.token_urlsafe(32)
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
def api_url(live_server) -> str:
    """Where the clients find the resource API: the same server, as in `make run`."""
    return live_server.url


@pytest.fixture(scope="session")
def web_client(issuer, api_url, tmp_path_factory) -> Iterator[WebClient]:
    client = start_web_client(
        issuer=issuer, api_url=api_url, var_dir=tmp_path_factory.mktemp("web-client")
    )
    yield client
    stop(client)


def join_catalogue_readers(user: AbstractUser) -> None:
    """Give `user` `resources.can_read_book` the way `loadbooks` does: by group.

    The group is made again if missing: the `0002_catalogue_groups` migration made
    it, but each `live_server` test flushes the database, groups included (the
    permissions themselves are recreated by the flush's post_migrate signal).
    """
    readers, _ = Group.objects.get_or_create(name=groups.READERS)
    readers.permissions.add(
        Permission.objects.get(
            content_type=ContentType.objects.get_for_model(Book),
            codename="can_read_book",
        )
    )
    user.groups.add(readers)


@pytest.fixture
def world(live_server, web_client):
    """What `loaddemo` registers, for these ports: a catalogue reader and the clients.

    Function-scoped: `live_server` tests run on `transactional_db`, flushed after
    each test.
    """
    user = UserFactory(username="alice", email="alice@example.com", password=PASSWORD)
    join_catalogue_readers(user)
    ApplicationFactory(
        name="Marginalia",
        client_id=WEB_CLIENT_ID,
        client_secret=WEB_CLIENT_SECRET,
        redirect_uris=f"{web_client.url}/callback",
        post_logout_redirect_uris=f"{web_client.url}/",
        allowed_scopes="openid profile email books:read books:write",
    )
    ApplicationFactory(
        name="Marginalia CLI",
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
    return user


# With the three books below, one more than the API's page of 20: the 18 filler
# books (2001) and Kindred and The Left Hand of Darkness fill page one, Solaris
# (the oldest) is alone on page two.
FILLER_BOOKS = 18
FILLER_PRICE = Decimal("10.00")
# 9.99 + 12.50 + 11.00 + 18 * 10.00, as the API sums it (a decimal string).
TOTAL_PRICE = "213.49"


@dataclass
class Catalogue:
    left_hand: Book
    kindred: Book
    solaris: Book


@pytest.fixture
def catalogue(world) -> Catalogue:
    """Real rows behind the real API: three known books, filler for a second page,
    and one review of Kindred by another reader (so one rating is not null)."""
    le_guin = AuthorFactory(name="Ursula K. Le Guin", birth_date=date(1929, 10, 21))
    butler = AuthorFactory(name="Octavia E. Butler", birth_date=date(1947, 6, 22))
    lem = AuthorFactory(name="Stanisław Lem", birth_date=date(1921, 9, 12))
    books = Catalogue(
        left_hand=BookFactory(
            title="The Left Hand of Darkness",
            author=le_guin,
            publication_date=date(1969, 3, 1),
            price=Decimal("9.99"),
        ),
        kindred=BookFactory(
            title="Kindred",
            author=butler,
            publication_date=date(1979, 6, 1),
            price=Decimal("12.50"),
        ),
        solaris=BookFactory(
            title="Solaris",
            author=lem,
            publication_date=date(1961, 1, 1),
            price=Decimal("11.00"),
        ),
    )
    BookFactory.create_batch(FILLER_BOOKS, price=FILLER_PRICE)
    ReviewFactory(
        book=books.kindred, user=UserFactory(username="bob"), rating=5, text="Vivid."
    )
    return books


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
