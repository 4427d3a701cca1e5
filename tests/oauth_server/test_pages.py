"""Server-rendered pages: home, authorized applications, admin."""

import pytest
from django.urls import reverse

from tests.factories import AccessTokenFactory, UserFactory


def test_home_page_links_discovery(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "/.well-known/openid-configuration" in response.content.decode()


def test_user_sees_and_revokes_authorized_apps(client, user, web_app):
    """An end user withdraws consent: the app's token is deleted."""
    token = AccessTokenFactory(user=user, application=web_app, scope="books:read")
    client.force_login(user)

    page = client.get(reverse("oauth2_provider:authorized-token-list"))
    assert web_app.name in page.content.decode()
    response = client.post(
        reverse("oauth2_provider:authorized-token-delete", args=[token.pk])
    )

    assert response.status_code == 302
    assert not type(token).objects.filter(pk=token.pk).exists()


def test_users_cannot_revoke_each_others_tokens(client, user, web_app):
    token = AccessTokenFactory(
        user=UserFactory(username="mallory"), application=web_app
    )
    client.force_login(user)

    response = client.post(
        reverse("oauth2_provider:authorized-token-delete", args=[token.pk])
    )

    assert response.status_code == 404


@pytest.mark.parametrize("view", ["changelist", "add"])
def test_admin_manages_applications(admin_client, web_app, view):
    """Staff can list and add applications in the admin."""
    url = reverse(f"admin:oauth_server_application_{view}")
    response = admin_client.get(url)
    assert response.status_code == 200


def test_admin_action_deactivates_applications(admin_client, web_app, user):
    """The admin's bulk action switches applications off and revokes their tokens."""
    AccessTokenFactory(user=user, application=web_app)

    response = admin_client.post(
        reverse("admin:oauth_server_application_changelist"),
        {"action": "deactivate", "_selected_action": [web_app.pk]},
    )

    assert response.status_code == 302
    web_app.refresh_from_db()
    assert web_app.is_active is False
    assert not AccessTokenFactory._meta.model.objects.filter(
        application=web_app
    ).exists()
