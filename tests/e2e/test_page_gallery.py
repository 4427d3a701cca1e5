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

from oauth_server.models import AuditEvent, Consent
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


# WCAG 2.1 contrast (1.4.3) of every visible text against the background it sits on:
# 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold). Returns the failures.
LOW_CONTRAST = """
() => {
  const rgba = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const color = rgba(getComputedStyle(e).backgroundColor);
      if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) {
        return color.slice(0, 3);
      }
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const element of document.body.querySelectorAll("*")) {
    const own = [...element.childNodes].some(
      (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim()
    );
    const style = getComputedStyle(element);
    if (!own || !element.getClientRects().length || style.visibility === "hidden") {
      continue;
    }
    const [l1, l2] = [
      luminance(rgba(style.color).slice(0, 3)),
      luminance(background(element)),
    ].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${element.tagName} "${element.textContent.trim().slice(0, 40)}" ` +
        `${ratio.toFixed(2)}:1`);
    }
  }
  return failures;
}
"""


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
        assert self.page.evaluate(LOW_CONTRAST) == [], name
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
    # What the walk did is in the audit log, with who and which application.
    logged = set(
        AuditEvent.objects.filter(user=person).values_list("event", "client_id")
    )
    assert {
        (AuditEvent.Event.SIGN_IN_SUCCEEDED, ""),
        (AuditEvent.Event.CONSENT_GRANTED, web.client_id),
        (AuditEvent.Event.CONSENT_GRANTED, tv.client_id),
    } <= logged
    assert AuditEvent.objects.filter(
        user=person, event=AuditEvent.Event.PERSONAL_TOKEN_CREATED
    ).exists()


def test_sign_in_consent_and_removal_work_without_javascript(
    live_server, browser, person, apps
):
    """Every form is a plain HTML form: no script is needed to use the pages."""
    web, _ = apps
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    seen = catch_callback(page)

    page.goto(authorize_url(live_server, web))
    sign_in(page)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("http://127.0.0.1:9/**")
    assert "code=" in seen[-1]

    page.goto(f"{live_server.url}/o/authorized-apps/")
    page.get_by_role("link", name="Remove access").first.click()
    page.get_by_role("button", name="Remove access").click()
    assert "Marginalia no longer has access" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Remove access").count() == 0
    assert not Consent.objects.filter(user=person, application=web).exists()
    assert AuditEvent.objects.filter(
        event=AuditEvent.Event.CONSENT_REVOKED, user=person, client_id=web.client_id
    ).exists()
    context.close()


def test_the_docs_show_every_page():
    """docs/pages.md shows each page at both widths, and only pages that exist."""
    guide = (REPO / "docs" / "pages.md").read_text()
    for name in PAGES:
        for width in WIDTHS:
            assert f"screenshots/pages/{name}-{width}.png" in guide, (name, width)
            assert (REPO / "docs/screenshots/pages" / f"{name}-{width}.png").is_file()
