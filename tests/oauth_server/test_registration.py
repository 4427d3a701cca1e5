"""Dynamic client registration (RFC 7591) and its management (RFC 7592)."""

import json

import pytest
from django.urls import reverse

from oauth_server.models import Application, AuditEvent, RegistrationPolicy
from tests.oauth_server.flows import CodeRequest, authorize, form_post

pytestmark = pytest.mark.django_db

REGISTER = "/o/register/"
NATIVE = {
    "client_name": "Agent",
    "redirect_uris": ["http://127.0.0.1:7777/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "books:read openid",
}
WEB = {**NATIVE, "redirect_uris": ["https://agent.example/callback"]}


def register(client, metadata: object, **headers):
    return client.post(
        REGISTER,
        json.dumps(metadata),
        content_type="application/json",
        **headers,
    )


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def registered(client):
    response = register(client, WEB)
    assert response.status_code == 201, response.content
    return response.json()


def test_public_client_registers(client):
    """A public client with the code grant gets a client_id and a management token."""
    response = register(client, WEB, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in body
    # Registered with the policy's scopes: asking for more later (a step-up) still
    # needs the person's consent, never a new registration.
    policy_scopes = RegistrationPolicy.load().scope_list
    assert body["scope"].split() == policy_scopes
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["registration_client_uri"].endswith(f"/o/register/{body['client_id']}/")
    assert body["registration_access_token"]
    app = Application.objects.get(client_id=body["client_id"])
    assert app.registration_source == "dcr"
    assert app.client_type == "public"
    assert app.allowed_scope_list == policy_scopes
    assert app.algorithm == "RS256"
    assert app.user is None


def test_registration_is_in_the_audit_log(client):
    """application.created, via dcr, with the address it came from."""
    body = register(client, WEB, REMOTE_ADDR="203.0.113.7").json()

    event = AuditEvent.objects.get(event="application.created")
    assert event.client_id == body["client_id"]
    assert event.details["via"] == "dcr"
    assert event.address == "203.0.113.7"


def test_scope_defaults_to_the_policy(client):
    """A client that names no scope may ask for every scope the policy allows."""
    body = register(client, {k: v for k, v in WEB.items() if k != "scope"}).json()

    assert body["scope"].split() == RegistrationPolicy.load().scope_list


def test_registered_client_runs_the_code_flow(client, user, registered):
    """The registered client obtains tokens with PKCE, within its scopes."""
    client.force_login(user)
    request = CodeRequest(
        client_id=registered["client_id"],
        redirect_uri=registered["redirect_uris"][0],
        scope="openid books:read",
    )
    code = authorize(client, request)["code"]
    response = form_post(
        client,
        reverse("oauth2_provider:token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": request.redirect_uri,
            "client_id": request.client_id,
            "code_verifier": request.verifier,
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "openid books:read"


def test_registered_client_cannot_exceed_its_scopes(client, user, registered):
    client.force_login(user)
    request = CodeRequest(
        client_id=registered["client_id"],
        redirect_uri=registered["redirect_uris"][0],
        scope="books:read email",
    )
    response = client.get(request.url())
    assert response.status_code == 302
    assert "error=invalid_scope" in response["Location"]


def test_consent_page_says_the_client_is_not_verified(client, user, registered):
    client.force_login(user)
    request = CodeRequest(
        client_id=registered["client_id"],
        redirect_uri=registered["redirect_uris"][0],
        scope="books:read",
    )
    page = client.get(request.url())
    assert page.status_code == 200
    assert b'id="registration-notice"' in page.content
    assert b"registered itself automatically" in page.content


# --- RFC 7592 ---------------------------------------------------------------------


def test_read_needs_the_registration_token(client, registered):
    uri = registered["registration_client_uri"]

    assert client.get(uri).status_code == 401
    wrong = client.get(uri, **bearer("not-the-token"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_token"
    right = client.get(uri, **bearer(registered["registration_access_token"]))
    assert right.status_code == 200
    assert right.json()["client_id"] == registered["client_id"]


def test_token_of_one_registration_does_not_open_another(client, registered):
    other = register(client, {**WEB, "client_name": "Other"}).json()
    response = client.get(
        other["registration_client_uri"],
        **bearer(registered["registration_access_token"]),
    )
    assert response.status_code == 401


def test_update_replaces_metadata_and_is_audited(client, registered):
    uri = registered["registration_client_uri"]
    metadata = {
        **WEB,
        "client_id": registered["client_id"],
        "client_name": "Renamed",
        "scope": "books:read",
    }
    response = client.put(
        uri,
        json.dumps(metadata),
        content_type="application/json",
        **bearer(registered["registration_access_token"]),
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["client_name"] == "Renamed"
    assert body["scope"].split() == RegistrationPolicy.load().scope_list
    # The token rotates on update (DCR_ROTATE_REGISTRATION_TOKEN_ON_UPDATE).
    assert body["registration_access_token"] != registered["registration_access_token"]
    old = client.get(uri, **bearer(registered["registration_access_token"]))
    assert old.status_code == 401
    event = AuditEvent.objects.get(event="application.changed")
    assert event.details["via"] == "dcr"
    assert "name" in event.details["fields"]


def test_update_without_the_token_changes_nothing(client, registered):
    response = client.put(
        registered["registration_client_uri"],
        json.dumps({**WEB, "client_name": "Hijacked"}),
        content_type="application/json",
    )
    assert response.status_code == 401
    app = Application.objects.get(client_id=registered["client_id"])
    assert app.name == "Agent"


def test_update_is_held_to_the_policy(client, registered):
    response = client.put(
        registered["registration_client_uri"],
        json.dumps({**WEB, "scope": "books:read email"}),
        content_type="application/json",
        **bearer(registered["registration_access_token"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_delete_removes_the_client_and_is_audited(client, registered):
    uri = registered["registration_client_uri"]
    assert client.delete(uri).status_code == 401

    response = client.delete(uri, **bearer(registered["registration_access_token"]))

    assert response.status_code == 204
    assert not Application.objects.filter(client_id=registered["client_id"]).exists()
    event = AuditEvent.objects.get(event="application.deleted")
    assert event.client_id == registered["client_id"]
    assert event.details == {"via": "dcr", "reason": "rfc7592"}
    assert (
        client.get(uri, **bearer(registered["registration_access_token"])).status_code
        == 401
    )


def test_management_refuses_applications_an_admin_registered(client, web_app):
    """A token with the registration scope on an admin-made app opens nothing."""
    from tests.factories import AccessTokenFactory

    token = AccessTokenFactory(
        application=web_app, user=None, scope="oauth2_provider:registration"
    )
    response = client.delete(
        f"/o/register/{web_app.client_id}/", **bearer(token.cleartext)
    )
    assert response.status_code == 401
    assert Application.objects.filter(pk=web_app.pk).exists()


# --- Discovery and admin -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
)
def test_discovery_advertises_registration(client, path):
    document = client.get(path).json()
    assert document["registration_endpoint"].endswith("/o/register/")
    assert document["client_id_metadata_document_supported"] is True


@pytest.mark.parametrize(
    "path",
    ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
)
def test_discovery_follows_the_policy(client, path):
    RegistrationPolicy.objects.update_or_create(
        pk=1, defaults={"dcr_open": False, "cimd_enabled": False}
    )
    document = client.get(path).json()
    assert "registration_endpoint" not in document
    assert document["client_id_metadata_document_supported"] is False


def test_admin_lists_registrations_with_their_source(admin_client, registered):
    response = admin_client.get(
        "/admin/oauth_server/application/?registration_source__exact=dcr"
    )
    assert response.status_code == 200
    assert registered["client_id"].encode() in response.content
    assert b"Dynamic Client Registration" in response.content


def test_admin_edits_the_one_policy(admin_client):
    listing = admin_client.get("/admin/oauth_server/registrationpolicy/")
    assert listing.status_code == 302
    page = admin_client.get(listing["Location"])
    assert page.status_code == 200
    assert b"registrations_per_hour" in page.content


def test_narrowing_the_policy_narrows_registered_clients(admin_client, registered):
    """Saving the policy in the admin takes away scopes it no longer allows."""
    response = admin_client.post(
        "/admin/oauth_server/registrationpolicy/1/change/",
        {
            "dcr_open": "on",
            "public_clients_only": "on",
            "cimd_enabled": "on",
            "scopes": "books:read",
            "registrations_per_hour": "10",
            "unused_days": "7",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    app = Application.objects.get(client_id=registered["client_id"])
    assert app.allowed_scope_list == ["books:read"]
    event = AuditEvent.objects.get(event="application.changed")
    assert event.details == {"via": "registration_policy", "fields": ["allowed_scopes"]}
