"""Two app servers, one truth: what one instance did, the other knows at once.

A and B are addressed directly (http, with the headers nginx adds), so each step
is known to reach the instance it names.
"""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.cluster.conftest import REVIEW_WRITES_PER_HOUR
from tests.cluster.flows import (
    CALLBACK,
    PASSWORD,
    BookNumbers,
    Node,
    auth,
    authorization_code,
    bearer,
    exchange,
    seed,
    token,
    user_tokens,
)
from tests.conftest import pkce_pair
from tests.e2e.conftest import form_fields

pytestmark = pytest.mark.cluster
USERS = ["alice", "bob", "carol", "dave", "erin"]


@pytest.fixture(scope="module")
def seeded(cluster):
    return seed(cluster, users=USERS, load_clients=0)


@pytest.fixture(scope="module")
def web(seeded):
    return seeded["apps"]["web"]


def refused(response) -> bool:
    return (
        response.status_code == 401
        and 'error="invalid_token"' in response.headers.get("WWW-Authenticate", "")
    )


def test_token_revoked_on_one_instance_is_refused_by_the_other(
    proxy, instances, seeded, web
):
    """A revocation through A holds on B at the next request, API and introspection."""
    a, b = instances
    tokens = user_tokens(proxy, web, "alice")
    access = tokens["access_token"]
    assert bearer(b, access, "GET", "/api/v1/books/").status_code == 200

    assert (
        a.session()
        .post(a.url("/o/revoke/"), data={"token": access}, auth=auth(web), timeout=20)
        .status_code
        == 200
    )

    assert refused(bearer(b, access, "GET", "/api/v1/books/"))
    introspection = b.session().post(
        b.url("/o/introspect/"),
        data={"token": access},
        auth=auth(seeded["apps"]["rs"]),
        timeout=20,
    )
    assert introspection.json() == {"active": False}


def test_code_replayed_on_the_other_instance_is_detected(proxy, instances, web):
    """A code spent on A is refused on B, and the tokens it bought are revoked."""
    a, b = instances
    code, verifier = authorization_code(proxy, web, "bob")
    first = exchange(a, web, code, verifier)
    assert first.status_code == 200
    replay = exchange(b, web, code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert refused(bearer(a, first.json()["access_token"], "GET", "/api/v1/books/"))


def test_refresh_token_replayed_on_the_other_instance_revokes_the_family(
    proxy, instances, web
):
    """A refresh token rotated on A and replayed on B ends the whole family."""
    a, b = instances
    tokens = user_tokens(proxy, web, "carol")
    rotated = token(
        a, web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert rotated.status_code == 200
    replay = token(
        b, web, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"

    newest = rotated.json()
    assert refused(bearer(b, newest["access_token"], "GET", "/api/v1/books/"))
    again = token(
        a, web, grant_type="refresh_token", refresh_token=newest["refresh_token"]
    )
    assert again.status_code == 400


def test_api_throttle_counts_across_instances(proxy, instances, seeded, web):
    """Review writes alternate between A and B and still share one budget."""
    a, b = instances
    access = user_tokens(proxy, web, "dave")["access_token"]
    numbers = BookNumbers(start=900_000)
    books = []
    for _ in range(REVIEW_WRITES_PER_HOUR + 1):
        created = bearer(
            a, access, "POST", "/api/v1/books/", json=numbers.book(seeded["author"])
        )
        assert created.status_code == 201, created.text[:300]
        books.append(created.json()["id"])

    statuses = [
        bearer(
            (a, b)[i % 2],
            access,
            "POST",
            f"/api/v1/books/{book}/reviews/",
            json={"rating": 4, "text": "Fine."},
        ).status_code
        for i, book in enumerate(books)
    ]
    assert statuses == [201] * REVIEW_WRITES_PER_HOUR + [429]


def direct_sign_in(node: Node, issuer: str, username: str, password: str):
    """POST the login form to one instance, with the cookie and Referer a browser
    on the proxy's origin would send (requests keeps Secure cookies off http)."""
    http = node.session()
    page = http.get(node.url("/accounts/login/"), timeout=20)
    csrf = page.cookies["authserver_csrftoken"]
    return http.post(
        node.url("/accounts/login/"),
        data={**form_fields(page.text), "username": username, "password": password},
        headers={
            "Referer": f"{issuer}/accounts/login/",
            "Cookie": f"authserver_csrftoken={csrf}",
        },
        allow_redirects=False,
        timeout=20,
    )


def test_sign_in_lockout_counts_across_instances(cluster, instances):
    """Failures on A and B add up: the right password is then refused on either."""
    a, b = instances
    issuer = cluster.config.issuer
    failures = [
        direct_sign_in(node, issuer, "erin", "wrong password").status_code
        for node in (a, b, a)
    ]
    # The form again with its error, then the lockout page: the limit is 3.
    assert failures == [200, 200, 429]
    locked = direct_sign_in(b, issuer, "erin", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text


def test_consent_given_through_one_instance_is_remembered_by_the_other(
    proxy, instances, web
):
    """After consent (through the proxy), B answers prompt=none with a code."""
    _, b = instances
    browser = proxy.session()
    code, verifier = authorization_code(proxy, web, "alice", http=browser)
    assert exchange(proxy, web, code, verifier).status_code == 200
    session_cookie = browser.cookies["authserver_sessionid"]

    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": web["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "openid books:read",
        "state": "st2",
        "prompt": "none",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    silent = b.session().get(
        b.url(f"/o/authorize/?{urlencode(query)}"),
        headers={"Cookie": f"authserver_sessionid={session_cookie}"},
        allow_redirects=False,
        timeout=20,
    )
    assert silent.status_code == 302
    params = parse_qs(urlsplit(silent.headers["Location"]).query)
    assert "error" not in params
    assert exchange(b, web, params["code"][0], verifier).status_code == 200
