"""German pages in headless Chromium: by the client's ui_locales, by the browser's language."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import CALLBACK
from tests.e2e.test_account_in_browser import PHONE, SCREENSHOTS, fits_the_screen
from tests.e2e.test_csp_in_browser import RECORD_VIOLATIONS
from tests.e2e.test_pages_in_browser import authorize_url, catch_callback
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def app(transactional_db):
    return ApplicationFactory(
        name="Reading Buddy",
        redirect_uris=CALLBACK,
        post_logout_redirect_uris="",
        description="Keeps track of what you read.",
    )


@pytest.fixture
def person(transactional_db):
    return UserFactory(username="carol")


def browser_page(browser, locale: str):
    """A page of a fresh context whose browser asks for `locale` (Accept-Language)."""
    context = browser.new_context(locale=locale)
    context.add_init_script(RECORD_VIOLATIONS)
    return context.new_page()


@pytest.fixture
def english_browser(browser):
    page = browser_page(browser, "en-US")
    yield page
    page.context.close()


@pytest.fixture
def german_browser(browser):
    page = browser_page(browser, "de-DE")
    yield page
    page.context.close()


def sign_in_german(page, username="carol", password="correct horse battery") -> None:
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def test_ui_locales_de_signs_in_and_asks_in_german(
    live_server, english_browser, app, person
):
    """An English browser, a client asking for German: sign-in and consent in German."""
    page = english_browser
    seen = catch_callback(page)
    page.goto(authorize_url(live_server, app) + "&ui_locales=fr%20de")

    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Anmelden"
    assert "Melden Sie sich an, um mit Reading Buddy fortzufahren." in (
        page.locator("main").inner_text()
    )
    sign_in_german(page)

    page.wait_for_selector("#authorizationForm")
    assert page.locator("html").get_attribute("lang") == "de"
    text = page.locator("main").inner_text()
    assert "Reading Buddy möchte auf Ihr Konto zugreifen" in text
    assert "Angemeldet als carol. Wenn Sie zustimmen, kann Reading Buddy:" in text
    assert "Ihren Namen und Benutzernamen sehen" in text
    assert "Buchkatalog und Rezensionen lesen" in text
    assert "Verbundene Anwendungen" in text
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "consent-de.png"), full_page=True)
    page.set_viewport_size(PHONE)
    fits_the_screen(page)
    page.screenshot(path=str(SCREENSHOTS / "consent-de-390.png"), full_page=True)

    page.get_by_role("button", name="Erlauben").click()
    page.wait_for_url("http://127.0.0.1:9/**")
    assert "code" in parse_qs(urlsplit(seen[0]).query)


def test_german_browser_gets_german_account_pages(live_server, german_browser, person):
    """Without ui_locales, the browser's Accept-Language: de decides."""
    page = german_browser
    page.goto(f"{live_server.url}/account/")
    assert page.locator("h1").inner_text() == "Anmelden"
    sign_in_german(page)
    page.wait_for_url(f"{live_server.url}/account/")

    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Ihr Konto"
    navigation = page.get_by_role("navigation", name="Konto")
    assert navigation.get_by_role("link", name="Persönliche Tokens").is_visible()
    # The sign-in just made, in the security events, in German.
    assert "Angemeldet" in page.locator("#security-events").inner_text()
