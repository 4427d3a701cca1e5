"""Server-rendered pages: home, admin (connected applications: test_consent.py)."""

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from tests.conftest import basic_auth
from tests.factories import AccessTokenFactory


def test_home_page_links_discovery(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "/.well-known/openid-configuration" in response.content.decode()


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


def test_admin_action_rotates_secrets_shown_once(admin_client, web_app, public_app):
    """New secrets on a page nobody stores; the old one stops working; public
    clients are left alone."""
    old_secret = web_app.cleartext_secret

    response = admin_client.post(
        reverse("admin:oauth_server_application_changelist"),
        {"action": "rotate_secret", "_selected_action": [web_app.pk, public_app.pk]},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    new_secret = html.split('<code class="secret">')[1].split("<")[0]
    web_app.refresh_from_db()
    assert check_password(new_secret, web_app.client_secret)
    assert not check_password(old_secret, web_app.client_secret)
    assert new_secret not in web_app.client_secret  # stored only as a hash
    assert public_app.name in html.split("Left alone")[1]
    token = admin_client.post(
        reverse("oauth2_provider:token"),
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(web_app.client_id, old_secret),
    )
    assert token.status_code == 401


def test_admin_rotation_of_public_clients_only_warns(admin_client, public_app):
    response = admin_client.post(
        reverse("admin:oauth_server_application_changelist"),
        {"action": "rotate_secret", "_selected_action": [public_app.pk]},
        follow=True,
    )

    assert "Public clients have no secret to rotate." in response.content.decode()


def test_admin_searches_tokens_by_user_and_application(admin_client, web_app, user):
    AccessTokenFactory(user=user, application=web_app)

    by_user = admin_client.get(
        reverse("admin:oauth2_provider_accesstoken_changelist"), {"q": user.username}
    )
    by_app = admin_client.get(
        reverse("admin:oauth2_provider_accesstoken_changelist"),
        {"q": web_app.client_id},
    )

    assert by_user.context["cl"].result_count == 1
    assert by_app.context["cl"].result_count == 1
