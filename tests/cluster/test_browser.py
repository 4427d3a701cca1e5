"""Sign-in and consent through the cluster in Debian's Chromium, trusting its CA.

The browser gets a trust store of its own (an NSS database in a temporary HOME)
holding only the cluster's generated CA, as a person would import it: the proxy's
certificate must verify, not be waved through.
"""

import os
import subprocess
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.cluster.flows import CALLBACK, PASSWORD, USER_SCOPE, exchange, seed
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, pkce_pair

pytestmark = pytest.mark.cluster
USER = "grace"


@pytest.fixture(scope="module")
def seeded(cluster):
    return seed(cluster, users=[USER], load_clients=0)


def chromium(home, playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        env={**os.environ, "HOME": str(home)},
    )


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser`")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def trusting_home(cluster, tmp_path_factory):
    """A HOME whose NSS database trusts the cluster's CA for TLS servers."""
    home = tmp_path_factory.mktemp("home")
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True)
    store = f"sql:{database}"
    subprocess.run(["certutil", "-N", "-d", store, "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            store,
            "-t",
            "C,,",
            "-n",
            "bookshelf-cluster-ca",
            "-i",
            str(cluster.config.ca_certificate),
        ],
        check=True,
    )
    return home


def authorize_url(cluster, app: dict, challenge: str) -> str:
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": USER_SCOPE,
        "state": "browser",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{cluster.config.issuer}/o/authorize/?{urlencode(query)}"


def test_sign_in_and_consent_through_the_proxy(
    cluster, seeded, playwright, trusting_home, proxy
):
    app = seeded["apps"]["web"]
    verifier, challenge = pkce_pair()
    browser = chromium(trusting_home, playwright)
    try:
        page = browser.new_page()
        callbacks: list[str] = []

        def client_callback(route):
            callbacks.append(route.request.url)
            route.fulfill(status=200, body="client callback", content_type="text/plain")

        page.route(f"{CALLBACK}**", client_callback)

        page.goto(authorize_url(cluster, app, challenge))
        assert page.url.startswith(f"{cluster.config.issuer}/accounts/login/")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("#authorizationForm")
        assert "wants to access your account" in page.locator("h1").inner_text()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{CALLBACK}**")
    finally:
        browser.close()

    params = parse_qs(urlsplit(callbacks[-1]).query)
    assert params["iss"] == [cluster.config.issuer]
    assert params["state"] == ["browser"]
    tokens = exchange(proxy, app, params["code"][0], verifier)
    assert tokens.status_code == 200, tokens.text[:300]
    assert tokens.json()["id_token"]


def test_without_the_ca_the_browser_refuses_the_proxy(cluster, playwright, tmp_path):
    """The trust store is what makes the test above pass: an empty one fails."""
    from playwright.sync_api import Error

    browser = chromium(tmp_path, playwright)
    try:
        page = browser.new_page()
        with pytest.raises(Error, match="ERR_CERT"):
            page.goto(f"{cluster.config.issuer}/.well-known/openid-configuration")
    finally:
        browser.close()
