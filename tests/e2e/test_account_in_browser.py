"""The account area in headless Chromium at phone width: a personal token's life."""

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from tests.e2e.clients.conftest import join_catalogue_readers
from tests.e2e.conftest import CALLBACK
from tests.e2e.test_csp_in_browser import RECORD_VIOLATIONS
from tests.e2e.test_pages_in_browser import sign_in
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.e2e
# The screenshots shown in the docs are refreshed with UPDATE_SCREENSHOTS=1; other
# runs write theirs under test-results/ and leave the committed ones alone.
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else REPO / "test-results"
)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def person(transactional_db):
    reader = UserFactory(username="carol")
    join_catalogue_readers(reader)
    return reader


@pytest.fixture
def phone(page):
    """The page at a phone's width, recording CSP violations."""
    page.set_viewport_size(PHONE)
    page.context.add_init_script(RECORD_VIOLATIONS)
    return page


def fits_the_screen(page) -> None:
    """No horizontal scroll at 390 px, and nothing blocked by the CSP."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("window.__cspViolations") == []


def books(live_server, token: str) -> requests.Response:
    return requests.get(
        f"{live_server.url}/api/v1/books/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_personal_token_is_created_shown_once_used_and_revoked(
    live_server, phone, person
):
    """Create a token in the browser, use it on the API, revoke it: then 401."""
    page = phone
    page.goto(f"{live_server.url}/account/tokens/")
    sign_in(page)
    page.wait_for_url(f"{live_server.url}/account/tokens/")
    fits_the_screen(page)

    # Labels name every field, and Tab goes through them in reading order.
    page.get_by_label("Name", exact=True).fill("reading script")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "books:read"
    page.get_by_label("Read the book catalogue and reviews").check()
    page.get_by_label("Expires after (days)").fill("7")
    with page.expect_navigation() as created:
        page.get_by_role("button", name="Create token").click()

    assert "no-store" in created.value.headers["cache-control"]
    token = page.locator("#new-token").input_value()
    assert token.startswith("pat_")
    assert "reading script" in page.locator("#issued-heading").inner_text()
    fits_the_screen(page)
    assert books(live_server, token).status_code == 200

    page.goto(f"{live_server.url}/account/tokens/")
    assert token not in page.content()
    assert page.locator("#new-token").count() == 0
    entry = page.locator("section.token-entry")
    assert "reading script" in entry.inner_text()
    fits_the_screen(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "personal-tokens-390.png"), full_page=True)

    entry.get_by_role("link", name="Revoke reading script").click()
    assert page.locator("h1").inner_text() == "Revoke the token “reading script”?"
    fits_the_screen(page)
    page.get_by_role("button", name="Revoke token").click()

    assert "is revoked" in page.locator("[role=status]").inner_text()
    assert page.locator("section.token-entry").count() == 0
    response = books(live_server, token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_account_pages_fit_a_phone(live_server, phone, person):
    """Sign-in naming the application, profile and nav: no horizontal scroll."""
    page = phone
    app = ApplicationFactory(
        name="Reading Buddy with a rather long application name",
        redirect_uris=CALLBACK,
        post_logout_redirect_uris="",
    )
    query = urlencode(
        {"response_type": "code", "client_id": app.client_id, "redirect_uri": CALLBACK}
    )
    page.goto(
        f"{live_server.url}/accounts/login/?"
        + urlencode({"next": f"/o/authorize/?{query}"})
    )
    assert "Sign in to continue to Reading Buddy" in page.locator("main").inner_text()
    fits_the_screen(page)

    page.goto(f"{live_server.url}/account/")
    sign_in(page)
    page.wait_for_url(f"{live_server.url}/account/")
    nav = page.get_by_role("navigation", name="Account")
    for name in ("Account", "Connected applications", "Personal tokens"):
        assert nav.get_by_role("link", name=name).is_visible()
    assert "carol@example.com" in page.locator("main").inner_text()
    fits_the_screen(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "account-390.png"), full_page=True)

    nav.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("navigation", name="Account").count() == 0
