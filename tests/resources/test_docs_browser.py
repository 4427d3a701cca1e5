"""Swagger UI's "Authorize" in a real browser: PKCE popup against our own server."""

from urllib.parse import parse_qs

import pytest

from oauth_server.models import Application
from tests.factories import ApplicationFactory, UserFactory


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_swagger_authorize_runs_pkce_and_returns_to_the_page(live_server, page):
    """Authorize opens our consent in a popup; the popup hands the code back to
    Swagger UI (same opener policy on every page), which redeems it with PKCE."""
    ApplicationFactory(
        client_id="api-docs",
        client_type=Application.CLIENT_PUBLIC,
        redirect_uris=f"{live_server.url}/api/docs/oauth2-redirect.html",
        post_logout_redirect_uris="",
        allowed_scopes="books:read books:write",
    )
    UserFactory(username="swagger")
    token_requests = []
    token_statuses = []
    page.on(
        "request",
        lambda r: token_requests.append(r.post_data) if "/o/token/" in r.url else None,
    )
    page.on(
        "response",
        lambda r: token_statuses.append(r.status) if "/o/token/" in r.url else None,
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.click("button.authorize")
    with page.expect_popup() as opened:
        page.click(".auth-btn-wrapper button.authorize")
    popup = opened.value
    popup.fill("#id_username", "swagger")
    popup.fill("#id_password", "correct horse battery")
    popup.click("button[type=submit]")
    with page.expect_response(lambda r: "/o/token/" in r.url) as redeemed:
        popup.click("button[name=allow]")
        # oauth2-redirect.html closes the popup only if it reached window.opener.
        popup.wait_for_event("close", timeout=10_000)
    assert redeemed.value.json()["scope"]

    assert token_statuses == [200]
    assert len(token_requests) == 1
    form = parse_qs(token_requests[0])
    assert form["grant_type"] == ["authorization_code"]
    assert form["client_id"] == ["api-docs"]
    assert form["code_verifier"][0]
    assert form["redirect_uri"] == [f"{live_server.url}/api/docs/oauth2-redirect.html"]
