"""The developer portal and the admin's scope approval in headless Chromium.

A developer registers an application, reads its client id, rotates its secret;
an administrator approves the scopes it requested in the Django admin; then the
application gets a client-credentials token. Every portal page is photographed at
desktop and phone width (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
"""

import pytest
import requests

from oauth_server.models import Application, AuditEvent
from tests.e2e.test_account_in_browser import PHONE, SCREENSHOTS, fits_the_screen
from tests.e2e.test_csp_in_browser import RECORD_VIOLATIONS
from tests.e2e.test_page_gallery import LOW_CONTRAST
from tests.e2e.test_pages_in_browser import sign_in
from tests.factories import DeveloperFactory, UserFactory

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1280, "height": 900}
Event = AuditEvent.Event


@pytest.fixture
def developer(transactional_db):
    return DeveloperFactory(username="carol")


@pytest.fixture
def browser_page(page):
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.set_viewport_size(DESKTOP)
    return page


def photograph(page, name: str) -> None:
    """The page at desktop width, then at 390 px without horizontal scroll; no text
    below WCAG contrast."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    assert page.evaluate(LOW_CONTRAST) == [], name
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    fits_the_screen(page)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def token(live_server, client_id: str, secret: str) -> requests.Response:
    return requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials", "scope": "books:read"},
        auth=(client_id, secret),
        timeout=10,
    )


def test_developer_registers_rotates_and_admin_approves(
    live_server, browser, browser_page, developer
):
    page = browser_page
    page.goto(f"{live_server.url}/developers/apps/")
    sign_in(page)
    page.wait_for_url(f"{live_server.url}/developers/apps/")
    nav = page.get_by_role("navigation", name="Account")
    assert nav.get_by_role("link", name="Developer portal").is_visible()
    page.get_by_role("link", name="Register an application").click()
    photograph(page, "register")

    # Labels name every field; a rule broken shows next to its field.
    page.get_by_label("Name", exact=True).fill("Nightly sync")
    page.get_by_label("Confidential: runs on a server").check()
    page.get_by_label("Client credentials: a program acting on its own").check()
    page.get_by_label("Homepage URL").fill("https://sync.example/")
    page.get_by_label("Description").fill("Copies the catalogue every night.")
    page.get_by_label("Read the book catalogue and reviews").check()
    page.get_by_label("See your email address").check()
    page.get_by_role("button", name="Register").click()
    errors = page.locator("#id_requested_scopes_error")
    assert "cannot be allowed email" in errors.inner_text()
    assert page.get_by_label("Name", exact=True).input_value() == "Nightly sync"
    photograph(page, "register-errors")

    page.get_by_label("See your email address").uncheck()
    with page.expect_navigation() as registered:
        page.get_by_role("button", name="Register").click()
    assert "no-store" in registered.value.headers["cache-control"]
    first_secret = page.locator("#client-secret").input_value()
    client_id = page.locator("#client-id").inner_text()
    app = Application.objects.get(client_id=client_id)
    assert (app.user, app.allowed_scopes, app.requested_scopes) == (
        developer,
        "",
        "books:read",
    )
    photograph(page, "secret")

    page.get_by_role("link", name="I have copied it").click()
    assert page.locator("#client-id").inner_text() == client_id
    assert "books:read" in page.locator("#requested-scopes").inner_text()
    assert first_secret not in page.content()
    photograph(page, "detail")
    page.goto(f"{live_server.url}/developers/apps/")
    photograph(page, "list")

    page.get_by_role("link", name="Nightly sync").click()
    page.get_by_role("link", name="Edit the application").click()
    photograph(page, "edit")
    page.get_by_label("Description").fill("Copies the catalogue at 2 am.")
    page.get_by_role("button", name="Save changes").click()
    assert "saved" in page.locator("[role=status]").inner_text()

    page.get_by_role("link", name="Rotate the client secret").click()
    photograph(page, "rotate")
    page.get_by_role("button", name="Rotate secret").click()
    secret = page.locator("#client-secret").input_value()
    assert secret != first_secret
    assert token(live_server, client_id, first_secret).status_code == 401
    pending = token(live_server, client_id, secret)
    assert (pending.status_code, pending.json()["error"]) == (400, "invalid_scope")

    # An administrator approves the request in the Django admin.
    UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = browser.new_context().new_page()
    admin.goto(
        f"{live_server.url}/admin/oauth_server/application/?scope_request=pending"
    )
    admin.fill("input[name=username]", "root")
    admin.fill("input[name=password]", "correct horse battery")
    admin.get_by_role("button", name="Log in").click()
    row = admin.locator("#result_list tbody tr", has_text=client_id)
    assert "books:read" in row.locator(".field-requested_scopes").inner_text()
    row.locator("input[name=_selected_action]").check()
    admin.select_option("select[name=action]", "approve_scopes")
    admin.locator("button[name=index]").click()
    # The locator waits for the page after the action, with its message.
    message = admin.locator("ul.messagelist").inner_text()
    assert "Decided the scope request of 1 application" in message
    admin.context.close()

    issued = token(live_server, client_id, secret)
    assert issued.status_code == 200, issued.text
    assert issued.json()["scope"] == "books:read"

    page.goto(f"{live_server.url}/developers/apps/")
    page.get_by_role("link", name="Nightly sync").click()
    assert "books:read" in page.locator("#allowed-scopes").inner_text()
    page.get_by_role("link", name="Deactivate the application").click()
    photograph(page, "deactivate")
    page.get_by_role("button", name="Deactivate").click()
    assert "is deactivated" in page.locator("[role=status]").inner_text()
    assert token(live_server, client_id, secret).status_code == 401

    logged = {
        (event.event, event.username)
        for event in AuditEvent.objects.filter(client_id=client_id)
    }
    assert logged >= {
        (Event.APPLICATION_CREATED, "carol"),
        (Event.APPLICATION_CHANGED, "carol"),
        (Event.APPLICATION_SECRET_ROTATED, "carol"),
        (Event.APPLICATION_CHANGED, "root"),
        (Event.TOKEN_ISSUED, ""),
        (Event.APPLICATION_DEACTIVATED, "carol"),
    }


def test_people_outside_the_group_see_why(live_server, browser_page, transactional_db):
    UserFactory(username="carol")
    page = browser_page
    page.goto(f"{live_server.url}/developers/apps/")
    sign_in(page)

    assert "for developers" in page.locator("h1").inner_text()
    nav = page.get_by_role("navigation", name="Account")
    assert nav.get_by_role("link", name="Developer portal").count() == 0
    photograph(page, "forbidden")
