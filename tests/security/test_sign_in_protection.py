"""Sign-in protection: password guessing is stopped on every form, from any address.

RFC 6819 §4.4.3.6 (online guessing of user passwords) asks the server to limit
login attempts; NIST SP 800-63B §5.2.2 asks for it per account, whatever the
address. Both sign-in forms, ours (used by the authorization endpoint) and the
admin's, count against the same account.
"""

import re

import pytest
import requests
from axes.models import AccessAttempt
from django.db.models import Sum
from django.urls import reverse

from tests.factories import UserFactory
from tests.security.concurrency import PROXY_HEADERS, TIMEOUT, race

RIGHT = "correct horse battery"
FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
PROXY = "10.0.0.1"  # the TLS proxy, as Django's peer
FORMS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def behind_proxy(settings):
    """One trusted proxy in front of the server (TRUSTED_PROXY_COUNT=1)."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "trusted_proxy_count": 1}


@pytest.fixture
def staff(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def attempt(client, username, password="wrong", url=FORMS[0], forwarded=None):
    """One sign-in POST, through the proxy when `forwarded` is given."""
    meta = {"REMOTE_ADDR": PROXY if forwarded else "192.0.2.10"}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(url, {"username": username, "password": password}, **meta)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_locked(response):
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert "<h1>Sign in</h1>" in response.text  # our styled page


def test_admin_login_locks_out(client, staff):
    """Guessing a superuser's password at /admin/login/ stops after five tries."""
    for _ in range(4):
        assert attempt(client, "root", url="/admin/login/").status_code == 200

    assert_locked(attempt(client, "root", url="/admin/login/"))
    assert_locked(attempt(client, "root", RIGHT, url="/admin/login/"))
    assert not signed_in(client)


def test_account_lockout_holds_across_addresses(client, user, behind_proxy):
    """An attacker rotating client addresses still gets five tries per account."""
    for i in range(4):
        assert attempt(client, "alice", forwarded=f"198.51.100.{i}").status_code == 200

    assert_locked(attempt(client, "alice", forwarded="198.51.100.200"))
    assert_locked(attempt(client, "alice", RIGHT, forwarded="203.0.113.99"))
    assert not signed_in(client)


def test_address_lockout_holds_across_usernames(client, user, settings):
    """One address spraying a password over many usernames is stopped."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "login_failures_per_address": 10}
    for i in range(9):
        assert attempt(client, f"user{i}").status_code == 200

    assert_locked(attempt(client, "user9"))
    assert_locked(attempt(client, "alice", RIGHT))
    assert not signed_in(client)


@pytest.mark.parametrize(
    "variant", [FULL_WIDTH_ALICE, "ALICE", FULL_WIDTH_ALICE.title()]
)
def test_username_variants_count_against_the_same_account(client, user, variant):
    """Full-width and case variants of a name share its allowance (RFC 8265 §3.3)."""
    for i in range(2):
        attempt(client, "alice", url=FORMS[i % 2])
    for i in range(3):
        attempt(client, variant, url=FORMS[i % 2])

    assert_locked(attempt(client, "alice", RIGHT))
    assert_locked(attempt(client, variant, RIGHT))
    assert not signed_in(client)


def test_address_lockout_holds_across_an_ipv6_subnet(client, user, settings):
    """Rotating through the addresses of one IPv6 /64 is spraying from one address."""
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "trusted_proxy_count": 1,
        "login_failures_per_address": 10,
    }
    for i in range(10):
        attempt(client, f"user{i}", forwarded=f"2001:db8:1:2::{i + 1:x}")

    assert_locked(attempt(client, "alice", RIGHT, forwarded="2001:db8:1:2:ffff::9"))
    assert (
        attempt(client, "alice", RIGHT, forwarded="2001:db8:1:3::1").status_code == 302
    )


@pytest.mark.parametrize(
    ("proxies", "forged"),
    [
        (0, "198.51.100.{i}"),  # no proxy: the whole header is the client's
        (1, "198.51.100.{i}, 203.0.113.7"),  # the proxy appended 203.0.113.7
        (1, "198.51.100.{i}, 198.51.100.1, 203.0.113.7"),
    ],
)
def test_forged_forwarded_for_is_ignored(client, user, settings, proxies, forged):
    """Entries left of the trusted proxies' choose nothing (RFC 7239 §8.1).

    The spraying client stays one address, and cannot spend another client's
    allowance by naming it.
    """
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "trusted_proxy_count": proxies,
        "login_failures_per_address": 10,
    }
    peer = PROXY if proxies else "203.0.113.7"
    for i in range(10):
        client.post(
            FORMS[i % 2],
            {"username": f"user{i}", "password": "wrong"},
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=forged.format(i=i),
        )
    assert_locked(
        client.post(
            FORMS[0],
            {"username": "alice", "password": RIGHT},
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=forged.format(i=200),
        )
    )

    # The addresses the attacker named are untouched.
    victim = {"REMOTE_ADDR": PROXY if proxies else "198.51.100.1"}
    if proxies:
        victim["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    response = client.post(FORMS[0], {"username": "alice", "password": RIGHT}, **victim)
    assert response.status_code == 302


@pytest.mark.parametrize("url", FORMS)
def test_correct_password_is_refused_while_locked(client, staff, url):
    """During a lockout the right password neither signs in nor looks different."""
    for i in range(5):
        attempt(client, "root", url=FORMS[i % 2])

    wrong = attempt(client, "root", "still wrong", url=url)
    right = attempt(client, "root", RIGHT, url=url)

    assert_locked(right)
    assert not signed_in(client)
    assert without_csrf(right.text) == without_csrf(wrong.text)


def test_lockout_does_not_reveal_whether_the_account_exists(client, user):
    """A name with no account locks out after the same tries, with the same page."""
    pages = {}
    for name in ("alice", "nobody"):
        statuses = [attempt(client, name, forwarded=None).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        pages[name] = attempt(client, name, RIGHT)

    assert pages["alice"].status_code == pages["nobody"].status_code == 429
    assert without_csrf(pages["alice"].text).replace("alice", "NAME") == (
        without_csrf(pages["nobody"].text).replace("nobody", "NAME")
    )


def test_admin_can_unlock_an_account(client, user, admin_client):
    """Deleting the account's access attempts in the admin lets the owner back in."""
    for _ in range(5):
        attempt(client, "alice")
    assert_locked(attempt(client, "alice", RIGHT))

    admin = admin_client
    changelist = reverse("admin:axes_accessattempt_changelist")
    listed = admin.get(changelist, {"q": "alice"})
    ids = [str(a.pk) for a in listed.context["cl"].queryset]
    assert ids
    response = admin.post(
        changelist,
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()

    assert attempt(client, "alice", RIGHT).status_code == 302
    assert signed_in(client)


def test_parallel_guesses_get_no_more_tries(live_server, transactional_db):
    """Twenty guesses sent at once are checked five times, not twenty.

    Without one try at a time per account, every parallel request passes the
    count check before any failure is recorded.
    """
    UserFactory(username="alice")
    url = f"{live_server.url}/accounts/login/"
    page = requests.get(url, headers=PROXY_HEADERS, timeout=TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    scheme = "https" if PROXY_HEADERS else "http"
    headers = {
        "Cookie": f"authserver_csrftoken={page.cookies['authserver_csrftoken']}",
        "Referer": f"{scheme}://{url.split('://', 1)[1]}",
    }
    guesses = [
        {"username": "alice", "password": f"guess {i}", "csrfmiddlewaretoken": token}
        for i in range(20)
    ]

    responses = race(url, guesses, headers=headers)

    checked = AccessAttempt.objects.aggregate(n=Sum("failures_since_start"))["n"]
    assert sorted(r.status_code for r in responses) == [200] * 4 + [429] * 16
    assert checked == 5


def without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
