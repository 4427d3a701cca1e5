"""Remembered consent and Connected applications in headless Chromium (Playwright)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from oauth_server.models import Consent
from tests.e2e.clients.conftest import join_catalogue_readers
from tests.e2e.conftest import CALLBACK
from tests.e2e.test_pages_in_browser import (
    SHOTS,
    authorize_url,
    catch_callback,
    sign_in,
)
from tests.factories import AccessTokenFactory, ApplicationFactory, UserFactory

pytestmark = pytest.mark.e2e
READ = "openid profile books:read"
WRITE = "openid profile books:read books:write"


@pytest.fixture
def app(transactional_db):
    return ApplicationFactory(
        name="Reading Buddy", redirect_uris=CALLBACK, post_logout_redirect_uris=""
    )


@pytest.fixture
def person(transactional_db):
    reader = UserFactory(username="carol")
    join_catalogue_readers(reader)
    return reader


def allow(page) -> None:
    page.wait_for_selector("#authorizationForm")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("http://127.0.0.1:9/**")


def test_second_sign_in_goes_straight_back(live_server, page, app, person):
    """Allowed once: the next request for the same scopes needs no click."""
    seen = catch_callback(page)
    page.goto(authorize_url(live_server, app, READ))
    sign_in(page)
    allow(page)

    # The browser's own session, without following the redirect: Chromium refuses
    # to navigate to the client's port 9 except from a click.
    again = page.request.get(authorize_url(live_server, app, READ), max_redirects=0)

    assert len(seen) == 1
    assert again.status == 302
    location = again.headers["location"]
    assert location.startswith("http://127.0.0.1:9/callback?")
    assert "code" in parse_qs(urlsplit(location).query)


def test_more_scopes_show_only_what_is_new(live_server, page, app, person):
    catch_callback(page)
    page.goto(authorize_url(live_server, app, READ))
    sign_in(page)
    allow(page)

    page.goto(authorize_url(live_server, app, WRITE))
    page.wait_for_selector("#authorizationForm")

    asked = page.locator("ul.scopes li").evaluate_all(
        "items => items.map(item => item.dataset.scope)"
    )
    assert asked == ["books:write"]
    assert "read" in page.locator("#already-granted").inner_text().lower()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consent-incremental.png"), full_page=True)


def test_removing_an_app_ends_its_access(live_server, page, app, person):
    """One entry per app; Remove access, confirmed, revokes its token at once."""
    catch_callback(page)
    page.goto(authorize_url(live_server, app, READ))
    sign_in(page)
    allow(page)
    for _ in range(3):
        AccessTokenFactory(user=person, application=app, scope="books:read")
    token = AccessTokenFactory(user=person, application=app, scope="books:read")
    api = page.context.request
    bearer = {"Authorization": f"Bearer {token.cleartext}"}
    assert api.get(f"{live_server.url}/api/v1/books/", headers=bearer).status == 200

    page.goto(f"{live_server.url}/o/authorized-apps/")
    assert page.locator("section.connected").count() == 1
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "connected-apps.png"), full_page=True)
    page.get_by_role("link", name="Remove access").click()
    assert "Remove Reading Buddy's access?" in page.locator("h1").inner_text()
    page.get_by_role("link", name="Cancel").click()
    assert page.locator("section.connected").count() == 1  # nothing removed
    page.get_by_role("link", name="Remove access").click()
    page.get_by_role("button", name="Remove access").click()

    assert "no longer has access" in page.locator("[role=status]").inner_text()
    assert page.locator("section.connected").count() == 0
    assert api.get(f"{live_server.url}/api/v1/books/", headers=bearer).status == 401
    assert not Consent.objects.filter(user=person).exists()
