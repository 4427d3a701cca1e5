"""Server-rendered pages: home, admin (connected applications: test_consent.py)."""

import pytest
from django.urls import reverse

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
