"""Every page a person sees, at desktop and phone width, in headless Chromium.

One walk per width through the pages of the authorization server: each must fit
the screen (no horizontal scroll), load nothing the CSP blocks, and is written as a
screenshot: under test-results/ on every run, to docs/screenshots/pages/ (shown in
docs/pages.md) with UPDATE_SCREENSHOTS=1.
"""

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from tests.e2e.clients.conftest import join_catalogue_readers
from tests.e2e.conftest import CALLBACK
from tests.e2e.test_csp_in_browser import RECORD_VIOLATIONS
from tests.e2e.test_pages_in_browser import authorize_url, catch_callback, sign_in
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    REPO / "docs" / "screenshots" / "pages"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else REPO / "test-results" / "pages"
)
WIDTHS = {
    "desktop": {"width": 1280, "height": 800},
    "390": {"width": 390, "height": 844},
}
# The pages, in the order docs/pages.md shows them.
PAGES = [
    "home",
    "sign-in",
    "consent",
    "authorization-error",
    "account",
    "connected-apps",
    "remove-access",
    "personal-tokens",
    "personal-token-created",
    "device-code",
    "device-confirm",
    "device-connected",
    "sign-out",
    "signed-in-still",
]


class Gallery:
    """Checks and photographs each page of one walk at one width."""

    def __init__(self, page, width: str) -> None:
        self.page = page
        self.width = width
        self.taken: list[str] = []

    def shoot(self, name: str) -> None:
        assert name in PAGES, name
        self.page.wait_for_load_state("load")
        viewport = WIDTHS[self.width]["width"]
        scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= viewport, f"{name} scrolls sideways at {viewport} px"
        assert self.page.evaluate("window.__cspViolations") == [], name
        # Every page is named by its heading.
        assert self.page.locator("h1").first.inner_text().strip(), name
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=str(SCREENSHOTS / f"{name}-{self.width}.png"), full_page=True
        )
        self.taken.append(name)


@pytest.fixture
def person(transactional_db):
    reader = UserFactory(
        username="carol", first_name="Carol", last_name="Reader", email="carol@ex.com"
    )
    join_catalogue_readers(reader)
    return reader


@pytest.fixture
def apps(transactional_db):
    web = ApplicationFactory(
        name="Marginalia",
        redirect_uris=CALLBACK,
        post_logout_redirect_uris=CALLBACK,
        description="Browse books and write reviews.",
        homepage_url="https://marginalia.example/",
    )
    tv = ApplicationFactory(
        name="Living-room TV",
        client_type="public",
        authorization_grant_type="urn:ietf:params:oauth:grant-type:device_code",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    return web, tv


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_and_is_photographed(live_server, page, person, apps, width):
    web, tv = apps
    page.set_viewport_size(WIDTHS[width])
    page.context.add_init_script(RECORD_VIOLATIONS)
    seen = catch_callback(page)
    gallery = Gallery(page, width)
    base = live_server.url

    page.goto(f"{base}/")
    gallery.shoot("home")

    page.goto(authorize_url(live_server, web))
    assert "Marginalia" in page.locator("main").inner_text()
    gallery.shoot("sign-in")
    sign_in(page)
    page.wait_for_selector("#authorizationForm")
    gallery.shoot("consent")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("http://127.0.0.1:9/**")
    assert "code=" in seen[-1]

    page.goto(f"{base}/o/authorize/?response_type=code&client_id=ghost")
    gallery.shoot("authorization-error")

    page.goto(f"{base}/account/")
    gallery.shoot("account")
    page.goto(f"{base}/o/authorized-apps/")
    assert "Marginalia" in page.locator("main").inner_text()
    gallery.shoot("connected-apps")
    page.get_by_role("link", name="Remove access").first.click()
    gallery.shoot("remove-access")

    page.goto(f"{base}/account/tokens/")
    gallery.shoot("personal-tokens")
    page.get_by_label("Name", exact=True).fill("reading script")
    page.get_by_label("Read the book catalogue and reviews").check()
    page.get_by_role("button", name="Create token").click()
    page.wait_for_selector("#new-token")
    gallery.shoot("personal-token-created")

    started = requests.post(
        f"{base}/o/device-authorization/",
        data={"client_id": tv.client_id, "scope": "books:read"},
        timeout=10,
    ).json()
    page.goto(started["verification_uri"])
    gallery.shoot("device-code")
    page.fill("input[name=user_code]", started["user_code"].lower())
    page.get_by_role("button", name="Continue").click()
    gallery.shoot("device-confirm")
    page.get_by_role("button", name="Allow").click()
    gallery.shoot("device-connected")

    query = urlencode(
        {"client_id": web.client_id, "post_logout_redirect_uri": CALLBACK}
    )
    page.goto(f"{base}/o/logout/?{query}")
    gallery.shoot("sign-out")
    page.get_by_role("button", name="Stay signed in").click()
    gallery.shoot("signed-in-still")

    assert gallery.taken == PAGES


def test_the_docs_show_every_page():
    """docs/pages.md shows each page at both widths, and only pages that exist."""
    guide = (REPO / "docs" / "pages.md").read_text()
    for name in PAGES:
        for width in WIDTHS:
            assert f"screenshots/pages/{name}-{width}.png" in guide, (name, width)
            assert (REPO / "docs/screenshots/pages" / f"{name}-{width}.png").is_file()
