"""Fixtures for end-to-end tests: real servers on loopback, Debian's Chromium."""

import os
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

# Playwright's sync API runs an event loop here, so Django would refuse ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never a downloaded browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# A loopback port nothing listens on: the browser's last hop, intercepted by tests.
CALLBACK = "http://127.0.0.1:9/callback"


class FormParser(HTMLParser):
    """Collects the inputs of the forms in a page: {form_id_or_index: {name: value}}."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif (
            tag == "input"
            and self.forms
            and attributes.get("name")
            and attributes.get("type") not in ("submit", "button")
        ):
            self.forms[-1][attributes["name"]] = attributes.get("value") or ""


def form_fields(html: str, index: int = -1) -> dict[str, str]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms[index]


@pytest.fixture(scope="session")
def browser():
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
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
