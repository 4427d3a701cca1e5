"""Introspection answers authenticated confidential clients only (RFC 7662 §2.1, §4).

A public client has no secret, so `introspection` can never be given to one, by any
way an application is registered: the model, `registerapp`, or the admin.
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from oauth_server.models import Application
from tests.factories import ApplicationFactory


def test_public_client_cannot_be_given_introspection(db):
    """Saving a public application allowed `introspection` is refused."""
    with pytest.raises(ValidationError) as raised:
        ApplicationFactory(client_type="public", allowed_scopes="introspection")

    assert "introspection" in str(raised.value.message_dict["allowed_scopes"])


def test_registerapp_refuses_introspection_for_public_clients(db):
    """The command line gives a clear error and saves nothing."""
    with pytest.raises(CommandError, match="introspection"):
        call_command(
            "registerapp",
            "--name=Sneaky",
            "--client-type=public",
            "--grant-type=authorization-code",
            "--redirect-uri=https://sneaky.example/cb",
            "--scopes=books:read introspection",
        )

    assert not Application.objects.filter(name="Sneaky").exists()


def test_admin_refuses_introspection_for_public_clients(admin_client):
    """The admin's add form shows the error and saves nothing."""
    response = admin_client.post(
        reverse("admin:oauth_server_application_add"),
        {
            "name": "Sneaky",
            "client_id": "sneaky",
            "client_type": "public",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": "https://sneaky.example/cb",
            "post_logout_redirect_uris": "",
            "allowed_origins": "",
            "allowed_scopes": "introspection",
            "algorithm": "",
            "contacts": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert b"introspection needs a confidential client" in response.content
    assert not Application.objects.filter(client_id="sneaky").exists()


def test_introspection_refuses_a_public_client(client, db):
    """A public client presenting only its id is not authenticated for introspection."""
    from tests.oauth_server.flows import form_post, json_of

    app = ApplicationFactory(client_type="public", allowed_scopes="books:read")

    response = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {"token": "anything", "client_id": app.client_id},
    )

    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"
