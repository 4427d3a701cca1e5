"""prompt=login and prompt=none in headless Chromium: redirects, forms and CSP."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import CALLBACK
from tests.e2e.test_pages_in_browser import authorize_url, catch_callback, sign_in
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def first_party(transactional_db):
    """Skips the consent page: signing in goes straight on to the client."""
    return ApplicationFactory(
        name="Shelf", redirect_uris=CALLBACK, skip_authorization=True
    )


@pytest.fixture
def person(transactional_db):
    return UserFactory(username="carol")


def callback_params(seen: list[str]) -> dict[str, list[str]]:
    return parse_qs(urlsplit(seen[-1]).query)


def silently(page, url: str) -> dict[str, list[str]]:
    """The redirect a prompt=none request answers with, sent with the browser's cookies.

    (Chromium refuses to follow a GET redirect to the callback's port 9.)
    """
    response = page.context.request.get(url, max_redirects=0)
    assert response.status == 302
    return parse_qs(urlsplit(response.headers["location"]).query)


def test_prompt_login_asks_a_signed_in_person_again(
    live_server, page, first_party, person
):
    """The login form shows though signed in; then on to the client, once."""
    seen = catch_callback(page)
    page.goto(authorize_url(live_server, first_party))
    sign_in(page)
    page.wait_for_url("http://127.0.0.1:9/**")
    first = len(seen)

    page.goto(authorize_url(live_server, first_party) + "&prompt=login")
    assert page.locator("h1").inner_text() == "Sign in"
    assert "sign in again" in page.locator("main").inner_text()
    sign_in(page)
    page.wait_for_url("http://127.0.0.1:9/**")

    assert len(seen) == first + 1
    assert "code" in callback_params(seen)


def test_prompt_none_returns_without_a_page(live_server, page, first_party, person):
    """Signed out: login_required at once; signed in: a code at once."""
    url = authorize_url(live_server, first_party) + "&prompt=none"
    assert silently(page, url)["error"] == ["login_required"]
    catch_callback(page)
    page.goto(authorize_url(live_server, first_party))
    sign_in(page)
    page.wait_for_url("http://127.0.0.1:9/**")

    params = silently(page, url)

    assert "code" in params
    assert params["iss"] == [live_server.url]
