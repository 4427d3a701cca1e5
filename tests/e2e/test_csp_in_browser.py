"""The Content-Security-Policy against every kind of page, in headless Chromium.

Each test loads real pages from the live server, listens to every page of the
browser context (popups included) for console messages, page errors and
`securitypolicyviolation` events, and checks that the page rendered: a policy that
breaks a page shows up as a violation, a console error or missing content.
"""

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from oauth_server.models import Application
from resources.models import Book
from tests.conftest import pkce_pair
from tests.e2e.conftest import CALLBACK
from tests.factories import ApplicationFactory, AuthorFactory, BookFactory, UserFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]
PASSWORD = "correct horse battery"
LOGO = "https://logo.example/bookshelf.png"
CLIENT_ORIGIN = "http://127.0.0.1:9/"

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI} on ${e.documentURI}`
  );
});
"""


class Watcher:
    """Console messages, page errors, CSP violations and off-site requests."""

    def __init__(self, page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.console: list[str] = []
        self.errors: list[str] = []
        self.off_site: list[str] = []
        self.violations: list[str] = []
        context = page.context
        context.add_init_script(RECORD_VIOLATIONS)
        context.on("console", self._console)
        context.on("weberror", lambda e: self.errors.append(str(e.error)))
        context.on("request", self._request)
        self._pages = [page]
        context.on("page", lambda p: self._pages.append(p))

    def _console(self, message) -> None:
        # Errors and warnings; Chromium's own "verbose" DOM hints are not problems.
        if message.type not in ("error", "warning"):
            return
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # Chromium asks for it on its own; we have none
        self.console.append(f"{message.type}: {message.text} ({message.location})")

    def _request(self, request) -> None:
        expected = (self.origin, f"blob:{self.origin}/", "data:", CLIENT_ORIGIN, LOGO)
        if not request.url.startswith(expected):
            self.off_site.append(request.url)

    def collect(self) -> None:
        for page in self._pages:
            if not page.is_closed():
                self.violations += page.evaluate("window.__cspViolations || []")
                page.evaluate("window.__cspViolations = []")

    def assert_clean(self) -> None:
        self.collect()
        assert self.violations == []
        assert self.console == []
        assert self.errors == []
        assert self.off_site == []


@pytest.fixture
def watch(live_server, page) -> Iterator[Watcher]:
    watcher = Watcher(page, live_server.url)
    yield watcher
    watcher.collect()
    print(watcher.violations, watcher.console, watcher.errors, watcher.off_site)  # noqa: T201  shown when a test fails


@pytest.fixture
def person():
    """A catalogue reader (the permission itself: live-server tests flush groups)."""
    user = UserFactory(username="carol", password=PASSWORD)
    user.user_permissions.add(
        Permission.objects.get(
            content_type=ContentType.objects.get_for_model(Book),
            codename="can_read_book",
        )
    )
    return user


@pytest.fixture
def client_app():
    """A client on another origin (the test's unanswered loopback port)."""
    return ApplicationFactory(
        name="Reading Buddy",
        redirect_uris=CALLBACK,
        post_logout_redirect_uris="http://127.0.0.1:9/",
        logo_url=LOGO,
    )


def catch_client(page) -> list[str]:
    """Answer the client's origin in the browser; record the URLs it was sent to."""
    seen: list[str] = []

    def fulfil(route):
        seen.append(route.request.url)
        route.fulfill(status=200, body="client", content_type="text/plain")

    page.context.route("http://127.0.0.1:9/**", fulfil)
    page.context.route(
        LOGO,
        lambda route: route.fulfill(status=200, body=b"", content_type="image/png"),
    )
    return seen


def sign_in(page, username: str = "carol") -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def authorize_url(live_server, app, **extra: str) -> str:
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid profile books:read",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{live_server.url}/o/authorize/?{urlencode(query)}"


@pytest.mark.parametrize("button", ["allow", "deny"])
def test_consent_form_reaches_the_client_on_another_origin(
    live_server, page, watch, person, client_app, button
):
    """form-action lets the consent decision redirect to the registered client
    (Chromium checks form-action on redirects) and nowhere else."""
    seen = catch_client(page)
    page.goto(authorize_url(live_server, client_app))
    sign_in(page)
    page.wait_for_selector("#authorizationForm")
    assert page.locator("img").get_attribute("src") == LOGO

    page.click(f"button[name={button}]")
    page.wait_for_url("http://127.0.0.1:9/**")

    params = parse_qs(urlsplit(seen[-1]).query)
    assert params["state"] == ["xyz"]
    assert ("code" if button == "allow" else "error") in params
    watch.assert_clean()


def test_sign_in_goes_on_to_a_client_that_skips_consent(
    live_server, page, watch, person, client_app
):
    """Signing in may redirect through /o/authorize/ straight to a first-party client."""
    client_app.skip_authorization = True
    client_app.save()
    seen = catch_client(page)
    page.goto(authorize_url(live_server, client_app))
    assert page.locator("h1").inner_text() == "Sign in"

    sign_in(page)
    page.wait_for_url("http://127.0.0.1:9/**")

    assert "code" in parse_qs(urlsplit(seen[-1]).query)
    watch.assert_clean()


def test_logout_confirmation_returns_to_the_client(
    live_server, page, watch, person, client_app
):
    """RP-initiated logout: confirming redirects to the registered post-logout URI."""
    seen = catch_client(page)
    page.goto(f"{live_server.url}/accounts/login/")
    sign_in(page)
    query = urlencode(
        {
            "client_id": client_app.client_id,
            "post_logout_redirect_uri": "http://127.0.0.1:9/",
            "state": "bye",
        }
    )
    page.goto(f"{live_server.url}/o/logout/?{query}")
    page.click("button[name=allow]")
    page.wait_for_url("http://127.0.0.1:9/**")

    assert parse_qs(urlsplit(seen[-1]).query)["state"] == ["bye"]
    watch.assert_clean()


def test_server_pages_render_under_the_policy(
    live_server, page, watch, person, client_app
):
    """Home, sign-in, authorized applications, device entry and the error page."""
    page.goto(f"{live_server.url}/o/authorize/?response_type=code&client_id=ghost")
    assert "cannot go on" in page.locator("h1").inner_text()
    assert [m for m in watch.console if "400 (Bad Request)" in m]
    watch.console.clear()  # the error page's own status, as Chromium reports it
    page.goto(f"{live_server.url}/accounts/login/")
    sign_in(page)
    assert page.locator("h1").inner_text() == "Bookshelf authorization server"
    # The stylesheet applied: the header is a flex row, not the default block.
    assert page.locator("header").evaluate("e => getComputedStyle(e).display") == (
        "flex"
    )
    page.goto(f"{live_server.url}/o/authorized-apps/")
    page.goto(f"{live_server.url}/o/device/")
    assert page.locator("h1").inner_text() == "Connect a device"
    watch.assert_clean()


def test_swagger_ui_and_its_authorize_popup(live_server, page, watch, person):
    """Swagger UI renders its operations; "Authorize" runs code + PKCE in a popup
    whose last page, oauth2-redirect.html, hands the code back."""
    ApplicationFactory(
        client_id="api-docs",
        client_type=Application.CLIENT_PUBLIC,
        redirect_uris=f"{live_server.url}/api/docs/oauth2-redirect.html",
        post_logout_redirect_uris="",
        allowed_scopes="books:read books:write",
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 5
    page.click("button.authorize")
    with page.expect_popup() as opened:
        page.click(".auth-btn-wrapper button.authorize")
    popup = opened.value
    sign_in(popup)
    with page.expect_response(lambda r: "/o/token/" in r.url) as redeemed:
        popup.click("button[name=allow]")
        popup.wait_for_event("close", timeout=10_000)
    assert redeemed.value.status == 200
    watch.assert_clean()


def test_redoc_renders_with_local_fonts_only(live_server, page, watch):
    """ReDoc shows its sidebar; nothing (fonts included) comes from another origin."""
    page.goto(f"{live_server.url}/api/redoc/")
    page.wait_for_selector(".menu-content li", timeout=60_000)
    assert page.locator(".menu-content li").count() > 5
    assert page.locator("h1").first.inner_text().startswith("Bookshelf catalogue API")
    watch.assert_clean()


def test_browsable_api_renders(live_server, page, watch, person):
    """The browsable API (session, HTML) with its scripts and forms."""
    BookFactory.create_batch(2, author=AuthorFactory())
    page.goto(f"{live_server.url}/accounts/login/")
    sign_in(page)
    page.goto(f"{live_server.url}/api/v1/books/")
    page.wait_for_selector(".response-info")
    assert "Book List" in page.locator("h1").inner_text()
    watch.assert_clean()


def test_django_admin_renders(live_server, page, watch, client_app):
    """Admin login, index, a change list and a change form with its widgets."""
    UserFactory(username="root", is_staff=True, is_superuser=True, password=PASSWORD)
    page.goto(f"{live_server.url}/admin/")
    sign_in(page, "root")
    page.wait_for_selector("#content-main")
    page.goto(f"{live_server.url}/admin/oauth_server/application/")
    page.wait_for_selector("#result_list")
    page.goto(
        f"{live_server.url}/admin/oauth_server/application/{client_app.pk}/change/"
    )
    page.wait_for_selector("#application_form")
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    page.wait_for_selector("#user_form")
    watch.assert_clean()
