"""Login, consent and device pages in headless Chromium (Playwright)."""

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.conftest import pkce_pair
from tests.e2e.conftest import CALLBACK
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


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


def authorize_url(live_server, app, scope="openid profile books:read") -> str:
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{live_server.url}/o/authorize/?{urlencode(query)}"


def catch_callback(page) -> list[str]:
    """Record navigations to the client's callback instead of loading it."""
    seen: list[str] = []

    def fulfil(route):
        seen.append(route.request.url)
        route.fulfill(status=200, body="client callback", content_type="text/plain")

    page.route("http://127.0.0.1:9/**", fulfil)
    return seen


def sign_in(page, username="carol", password="correct horse battery") -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(("button", "expected"), [("Allow", "code"), ("Deny", "error")])
def test_login_then_consent(live_server, page, app, person, button, expected):
    """A person signs in, reads what the app asks for, and decides."""
    seen = catch_callback(page)
    page.goto(authorize_url(live_server, app))
    assert page.locator("h1").inner_text() == "Sign in"

    sign_in(page)

    page.wait_for_selector("#authorizationForm")
    text = page.locator("main").inner_text()
    assert "Reading Buddy wants to access your account" in text
    assert "See your name and username" in text
    assert "Read the book catalogue and reviews" in text
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "consent.png"), full_page=True)
    page.get_by_role("button", name=button).click()
    page.wait_for_url("http://127.0.0.1:9/**")

    params = parse_qs(urlsplit(seen[-1]).query)
    assert expected in params
    assert params["state"] == ["xyz"]
    assert params["iss"] == [live_server.url]
    if expected == "error":
        assert params["error"] == ["access_denied"]


def test_wrong_password_is_explained(live_server, page, app, person):
    page.goto(authorize_url(live_server, app))

    sign_in(page, password="nope")

    assert "do not match" in page.locator("[role=alert]").inner_text()


def test_unknown_client_shows_error_page(live_server, page, person):
    """A bad client_id never leaves our origin."""
    page.goto(f"{live_server.url}/o/authorize/?response_type=code&client_id=ghost")

    assert "cannot go on" in page.locator("h1").inner_text()
    assert page.url.startswith(live_server.url)


def test_device_code_entry(live_server, page, person, transactional_db):
    """A person types the device's code and allows it."""
    import requests

    device_app = ApplicationFactory(
        name="Living-room TV",
        client_type="public",
        authorization_grant_type="urn:ietf:params:oauth:grant-type:device_code",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    started = requests.post(
        f"{live_server.url}/o/device-authorization/",
        data={"client_id": device_app.client_id, "scope": "books:read"},
        timeout=10,
    ).json()

    page.goto(started["verification_uri"])
    sign_in(page)
    page.fill("input[name=user_code]", started["user_code"])
    page.get_by_role("button", name="Continue").click()
    assert "Living-room TV on your device" in page.locator("h1").inner_text()
    page.get_by_role("button", name="Allow").click()

    assert page.locator("h1").inner_text() == "Device connected"
