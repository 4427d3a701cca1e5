"""Content negotiation with the Accept headers real browsers and curl send."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import REQUEST_DEFAULTS
from tests.factories import BookFactory

CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BROWSERS = {"chrome": CHROME, "firefox": FIREFOX, "safari": SAFARI}


@pytest.mark.parametrize("accept", BROWSERS.values(), ids=BROWSERS.keys())
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_browser_gets_the_browsable_api_not_xml(editor, accept, version):
    """A signed-in browser opening a list gets HTML, even though it accepts XML."""
    book = BookFactory()
    browser = Client(**REQUEST_DEFAULTS)
    browser.force_login(editor)
    response = browser.get(
        reverse("api:book-list", kwargs={"version": version}), HTTP_ACCEPT=accept
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert book.title in response.content.decode()


@pytest.mark.parametrize("accept", BROWSERS.values(), ids=BROWSERS.keys())
def test_browser_gets_the_personal_tokens_page_as_html(user, accept):
    browser = Client(**REQUEST_DEFAULTS)
    browser.force_login(user)
    response = browser.get(
        reverse("api:personal-token-list", kwargs={"version": "v1"}),
        HTTP_ACCEPT=accept,
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("accept", [None, "*/*"], ids=["no-accept", "curl"])
def test_curl_gets_json(api_client_for, token_for, reader, accept):
    """curl sends `Accept: */*` (or scripts none at all): JSON."""
    BookFactory()
    client = api_client_for(token_for(reader, "books:read"))
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = client.get(reverse("api:book-list", kwargs={"version": "v2"}), **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"]


def test_xml_only_when_asked_for(api_client_for, token_for, reader):
    BookFactory()
    client = api_client_for(token_for(reader, "books:read"))
    response = client.get(
        reverse("api:book-list", kwargs={"version": "v1"}),
        HTTP_ACCEPT="application/xml",
    )
    assert response["Content-Type"].startswith("application/xml")
