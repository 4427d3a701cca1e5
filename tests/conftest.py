"""Fixtures shared by every test package."""

import base64
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client, override_settings
from oauth2_provider.settings import oauth2_settings
from rest_framework.test import APIClient

from resources import groups
from tests.factories import AccessTokenFactory, ApplicationFactory, UserFactory
from tests.plugin_env import PRODUCTION_ISSUER, PROFILE

# Under the production profile requests arrive as through the TLS proxy: https.
REQUEST_DEFAULTS = (
    {"HTTP_X_FORWARDED_PROTO": "https"} if PROFILE == "production" else {}
)


@pytest.fixture(autouse=True)
def _fast_and_clean(settings):
    """Fast user-password hashing and an empty cache for every test."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "oauth_server.hashers.GeneratedSecretHasher",
    ]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def process(settings) -> Iterator[Callable[[str], AbstractContextManager[None]]]:
    """`with process("a"):` serves what runs inside as server process "a", no Redis.

    Local mode (`CACHE_SHARED` off): each named process has a local-memory cache of
    its own, as each gunicorn worker has, and shares only the database with the
    others.
    """
    settings.CACHE_SHARED = False
    started: set[str] = set()

    @contextmanager
    def run(name: str) -> Iterator[None]:
        own = {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"process-{name}",
        }
        with override_settings(CACHES={"default": own}):
            if name not in started:
                started.add(name)
                cache.clear()  # a new process: nothing from an earlier test
            yield

    yield run
    for name in started:
        with run(name):
            cache.clear()


@pytest.fixture
def oauth2_settings_override(settings):
    """Change DOT settings for one test: `oauth2_settings_override(KEY=value)`."""

    def override(**values):
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **values}
        oauth2_settings.reload()

    yield override
    oauth2_settings.reload()


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


@pytest.fixture
def web_app(db):
    """A confidential authorization-code client with every user scope."""
    return ApplicationFactory(name="Web app")


@pytest.fixture
def public_app(db):
    return ApplicationFactory(
        name="Public app",
        client_type="public",
        redirect_uris="http://127.0.0.1:9999/callback",
        allowed_scopes="openid books:read",
    )


@pytest.fixture
def device_app(db):
    """A public device-grant client (a TV app, a CLI)."""
    return ApplicationFactory(
        name="TV app",
        client_type="public",
        authorization_grant_type="urn:ietf:params:oauth:grant-type:device_code",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="openid profile books:read",
    )


@pytest.fixture
def machine_app(db):
    return ApplicationFactory(
        name="Machine",
        authorization_grant_type="client-credentials",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )


@pytest.fixture
def introspector(db):
    return ApplicationFactory(
        name="Introspector",
        authorization_grant_type="client-credentials",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="introspection",
    )


@pytest.fixture
def client() -> Client:
    """Django's test client, speaking https under the production profile."""
    return Client(**REQUEST_DEFAULTS)


@pytest.fixture
def admin_client(db, admin_user) -> Client:
    """pytest-django's signed-in superuser client, through `client`'s defaults."""
    client = Client(**REQUEST_DEFAULTS)
    client.force_login(admin_user)
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient(**REQUEST_DEFAULTS)


@pytest.fixture
def issuer() -> str:
    """The issuer the server names for requests from the test client."""
    return PRODUCTION_ISSUER if PROFILE == "production" else "http://testserver"


@pytest.fixture
def api_client_for(db):
    """An APIClient sending `token` (a factory AccessToken or a string) as Bearer."""

    def make(token) -> APIClient:
        client = APIClient(**REQUEST_DEFAULTS)
        value = getattr(token, "cleartext", token)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
        return client

    return make


@pytest.fixture
def access_token(db, user, web_app):
    return AccessTokenFactory(user=user, application=web_app, scope="books:read")


def pkce_pair() -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge) pair (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic_auth(client_id: str, secret: str) -> str:
    raw = f"{client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


# --- Resource API ----------------------------------------------------------------------


@pytest.fixture
def reader(db):
    """A user in the catalogue readers group (can_read_book)."""
    user = UserFactory(username="reader")
    user.groups.add(Group.objects.get(name=groups.READERS))
    return user


@pytest.fixture
def editor(db):
    """A user in the catalogue editors group (can_read_book and can_edit_book)."""
    user = UserFactory(username="editor")
    user.groups.add(Group.objects.get(name=groups.EDITORS))
    return user


@pytest.fixture
def token_for(db, web_app):
    """`token_for(user, scope)`: a valid access token of the web app for `user`."""

    def make(user, scope: str = "books:read books:write"):
        return AccessTokenFactory(user=user, application=web_app, scope=scope)

    return make


@pytest.fixture
def client_for(api_client_for, token_for):
    """`client_for(user, scope)`: an APIClient sending a fresh token for `user`."""

    def make(user, scope: str = "books:read books:write") -> APIClient:
        return api_client_for(token_for(user, scope))

    return make


@pytest.fixture
def machine_token(machine_app):
    """A client-credentials token (no user) with books:read."""
    return AccessTokenFactory(user=None, application=machine_app, scope="books:read")


# Playwright's sync API runs an event loop in the test thread, so Django would refuse
# ORM calls from it without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = "/usr/bin/chromium"  # Debian's package; never a downloaded browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module.

    Playwright's sync API keeps its asyncio loop running in the test thread while it
    is open, so async tests (anyio, the MCP SDK) that come after the browser tests
    could not start a loop of their own if it stayed open for the whole run.
    """
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
        )
    with sync_playwright() as pw:  # leaving the block closes the browser
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser context (own cookies) and page for one test."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
