"""The sign-in form, and its refusal of rapid password guessing (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse

from oauth_server.sign_in import normalize_username
from tests.factories import UserFactory

RIGHT = "correct horse battery"
FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


def sign_in(client, username="alice", password="wrong", address="10.0.0.1", **data):
    return client.post(
        reverse("login"),
        {"username": username, "password": password, **data},
        REMOTE_ADDR=address,
    )


def test_correct_password_signs_in(client, user):
    response = sign_in(client, password=RIGHT)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_staff_signs_in_to_the_admin(client, db):
    """The admin's own form works through axes' backend, and its pages open."""
    UserFactory(username="root", is_staff=True, is_superuser=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": RIGHT}
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/axes/accessattempt/").status_code == 200


def test_wrong_password_is_explained(client, user):
    response = sign_in(client)

    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_fifth_failure_locks_the_account(client, user):
    """Four failures are explained; the fifth answers with the lockout page."""
    for _ in range(4):
        assert sign_in(client).status_code == 200

    response = sign_in(client)

    assert response.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes" in response.text
    assert response["Retry-After"] == "900"
    assert "no-store" in response["Cache-Control"]


def test_lockout_page_is_the_sign_in_page(client, user):
    """Same template, the typed username kept, `next` kept, posting to the same form."""
    for _ in range(5):
        response = sign_in(client, next="/o/authorize/?client_id=x")

    page = response.text
    assert response.status_code == 429
    assert "<h1>Sign in</h1>" in page
    assert 'action="/accounts/login/"' in page
    assert 'name="next" value="/o/authorize/?client_id=x"' in page
    assert 'value="alice"' in page
    assert "do not match" not in page


def test_lockout_page_drops_an_unsafe_next(client, user):
    """`next` comes from LoginView's checked redirect, never straight from the form."""
    for _ in range(5):
        response = sign_in(client, next="https://evil.example/")

    assert response.status_code == 429
    assert "evil.example" not in response.text


def test_cool_off_and_limit_come_from_settings(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(seconds=60)
    assert sign_in(client).status_code == 200

    response = sign_in(client)

    assert response.status_code == 429
    assert "Try again in 1 minute," in response.text
    assert response["Retry-After"] == "60"


def test_lockout_ends_after_the_cool_off(client, user):
    for _ in range(5):
        sign_in(client)
    AccessAttempt.objects.update(attempt_time="2000-01-01T00:00:00Z")

    assert sign_in(client, password=RIGHT).status_code == 302


def test_tries_during_a_lockout_do_not_extend_it(client, user):
    """A lockout ends a cool-off after the failure that caused it, however often
    someone knocks meanwhile, and the stored attempts stop growing."""
    for _ in range(5):
        sign_in(client)
    stored = list(AccessAttempt.objects.values())

    for _ in range(3):
        assert sign_in(client).status_code == 429

    assert list(AccessAttempt.objects.values()) == stored


def test_success_keeps_the_address_count(client, user, settings):
    """Signing in to one's own account does not reset the address's failures.

    Otherwise an attacker with an account could spray usernames, sign in as
    themselves, and spray again.
    """
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "login_failures_per_address": 4}
    for name in ("a", "b", "c"):
        sign_in(client, username=name)
    assert sign_in(client, password=RIGHT).status_code == 302
    client.logout()

    assert sign_in(client, username="d").status_code == 429


def test_failures_are_stored_without_secrets(client, user):
    sign_in(client, password="hunter2-secret", csrfmiddlewaretoken="csrf-secret")

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("alice", "10.0.0.1")
    assert "hunter2" not in attempt.post_data
    assert "csrf-secret" not in attempt.post_data


@pytest.mark.parametrize("typed", ["alice", "Alice", FULL_WIDTH_ALICE])
def test_reset_command_unlocks_any_spelling(client, user, typed):
    """`manage.py axes_reset_username` finds the account however it is typed."""
    for _ in range(5):
        sign_in(client)

    call_command("axes_reset_username", typed)

    assert sign_in(client, password=RIGHT).status_code == 302


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("alice", "alice"),
        ("ALICE", "alice"),
        (FULL_WIDTH_ALICE, "alice"),
        (FULL_WIDTH_ALICE.title(), "alice"),
        ("  alice\u3000", "alice"),
        ("ﬀ", "ff"),
        ("Straße", "strasse"),
        ("ß" * 200, "s" * 255),
    ],
)
def test_usernames_are_counted_in_one_spelling(typed, key):
    assert normalize_username(typed) == key
