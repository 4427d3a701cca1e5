"""The sign-in form, and its refusal of rapid password guessing."""

from django.urls import reverse


def sign_in(client, username="alice", password="wrong", address="10.0.0.1"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_correct_password_signs_in(client, user):
    response = sign_in(client, password="correct horse battery")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_is_explained(client, user):
    response = sign_in(client)

    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_account_is_locked_for_an_address_after_five_failures(client, user):
    """The sixth try from the same address is refused, even with the right password."""
    for _ in range(5):
        assert sign_in(client).status_code == 200

    response = sign_in(client, password="correct horse battery")

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_does_not_reach_other_addresses(client, user):
    """Someone guessing elsewhere does not lock the owner out."""
    for _ in range(5):
        sign_in(client, address="203.0.113.9")

    response = sign_in(client, password="correct horse battery", address="10.0.0.2")

    assert response.status_code == 302


def test_one_address_spraying_usernames_is_stopped(client, user, settings):
    settings.OAUTH_SERVER = {"login_failures_per_address": 3}
    for name in ("a", "b", "c"):
        sign_in(client, username=name)

    response = sign_in(client, password="correct horse battery")

    assert response.status_code == 429


def test_success_resets_the_account_count(client, user):
    """Four mistakes, a success, four more mistakes: still not locked."""
    for _ in range(4):
        sign_in(client)
    assert sign_in(client, password="correct horse battery").status_code == 302
    client.logout()

    for _ in range(4):
        sign_in(client)

    assert sign_in(client, password="correct horse battery").status_code == 302
