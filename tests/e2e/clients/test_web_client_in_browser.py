"""Marginalia's sign-in and sign-out in Debian's Chromium (Playwright)."""

import re

import pytest

from tests.e2e.clients.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_sign_in_and_out_in_a_browser(world, page, web_client, issuer):
    """A real browser: two origins on one host, cookies that do not collide."""
    page.goto(f"{web_client.url}/")
    page.click("#sign-in")
    page.wait_for_url(re.compile(re.escape(f"{issuer}/accounts/login/")))
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("button[name=allow]")
    page.wait_for_url(f"{web_client.url}/")

    assert page.inner_text("h1") == "Welcome, Ada Lovelace"
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert {"marginalia_sessionid", "authserver_sessionid"} <= set(cookies)
    assert cookies["marginalia_sessionid"]["httpOnly"]

    page.click("button[name=signout]")
    page.wait_for_url(re.compile(re.escape(f"{issuer}/o/logout/")))
    page.click("[name=allow]")
    page.wait_for_url(f"{web_client.url}/")

    assert page.is_visible("#sign-in")
