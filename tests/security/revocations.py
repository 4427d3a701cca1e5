"""The ways a cached access token stops working, each followed in the bearer-cache
tests by the next request: deaths, `kill(client, tokens, reader, web_app,
admin_client)`, and lost permissions, `change(reader)`."""

from django.contrib.auth.models import Group
from django.urls import reverse
from oauth2_provider.models import get_access_token_model

from oauth_server import services
from oauth_server.tokens import checksum
from resources import groups
from tests.oauth_server.flows import form_post


def revoke_at_endpoint(client, tokens, reader, web_app, admin_client):
    response = form_post(
        client,
        reverse("oauth2_provider:revoke-token"),
        {"token": tokens["access_token"]},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert response.status_code == 200


def revoke_refresh_token_at_endpoint(client, tokens, reader, web_app, admin_client):
    response = form_post(
        client,
        reverse("oauth2_provider:revoke-token"),
        {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert response.status_code == 200


def revoke_with_admin_action(client, tokens, reader, web_app, admin_client):
    token = get_access_token_model().objects.get(
        token_checksum=checksum(tokens["access_token"])
    )
    url = reverse("admin:oauth2_provider_accesstoken_changelist")
    data = {"action": "revoke_tokens", "_selected_action": [token.pk]}
    assert admin_client.post(url, data).status_code == 302


def deactivate_app_with_admin_action(client, tokens, reader, web_app, admin_client):
    url = reverse("admin:oauth_server_application_changelist")
    data = {"action": "deactivate", "_selected_action": [web_app.pk]}
    assert admin_client.post(url, data).status_code == 302


def deactivate_app_flag_only(client, tokens, reader, web_app, admin_client):
    web_app.is_active = False  # the change form: the flag, no revocation
    web_app.save()


def deactivate_app_with_service(client, tokens, reader, web_app, admin_client):
    services.application_deactivate(client_id=web_app.client_id)


def deactivate_user(client, tokens, reader, web_app, admin_client):
    reader.is_active = False
    reader.save()


def remove_connected_app(client, tokens, reader, web_app, admin_client):
    """The user's "Remove access" on the connected applications page."""
    client.force_login(reader)
    url = reverse("oauth2_provider:connected-app-remove", kwargs={"pk": web_app.pk})
    assert client.post(url).status_code == 302


REASONS = [
    revoke_at_endpoint,
    revoke_refresh_token_at_endpoint,
    revoke_with_admin_action,
    deactivate_app_with_admin_action,
    deactivate_app_flag_only,
    deactivate_app_with_service,
    deactivate_user,
    remove_connected_app,
]


def leave_readers_group(reader):
    reader.groups.remove(Group.objects.get(name=groups.READERS))


def readers_group_loses_its_permissions(reader):
    Group.objects.get(name=groups.READERS).permissions.clear()


# The token lives on, but it may no longer read the catalogue: a 403.
PERMISSION_LOSSES = [leave_readers_group, readers_group_loses_its_permissions]
