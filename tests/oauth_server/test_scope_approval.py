"""Administrators decide which scopes an application may use: approving and
declining what developers request, and the admin of tokens and codes."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_grant_model

from oauth_server import services
from oauth_server.developers import DEVELOPERS
from oauth_server.models import Application, AuditEvent
from tests.factories import AccessTokenFactory, ApplicationFactory

Event = AuditEvent.Event
CHANGELIST = reverse("admin:oauth_server_application_changelist")


def requesting(requested: str, allowed: str = "books:read", **fields) -> Application:
    app = ApplicationFactory(allowed_scopes=allowed, **fields)
    Application.objects.filter(pk=app.pk).update(requested_scopes=requested)
    app.refresh_from_db()
    return app


def act(admin_client, action: str, *apps: Application):
    return admin_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [app.pk for app in apps]},
        follow=True,
    )


@pytest.mark.parametrize(
    ("action", "allowed", "requested", "event_detail"),
    [
        (
            "approve_scopes",
            "books:read books:write",
            "",
            {"scopes_approved": ["books:write"]},
        ),
        ("decline_scopes", "books:read", "", {"scopes_declined": ["books:write"]}),
    ],
)
def test_admin_decides_requested_scopes(
    admin_client, admin_user, action, allowed, requested, event_detail
):
    app = requesting("books:write")
    untouched = requesting("email", name="Another")

    response = act(admin_client, action, app)

    assert response.status_code == 200
    app.refresh_from_db()
    assert (app.allowed_scopes, app.requested_scopes) == (allowed, requested)
    untouched.refresh_from_db()
    assert untouched.requested_scopes == "email"
    [entry] = AuditEvent.objects.filter(event=Event.APPLICATION_CHANGED)
    assert (entry.user, entry.application) == (admin_user, app)
    assert entry.details.items() >= event_detail.items()
    assert "Decided the scope request of 1 application." in response.content.decode()


def test_approving_openid_makes_the_application_sign_id_tokens(admin_user):
    app = ApplicationFactory(allowed_scopes="books:read", algorithm="")
    Application.objects.filter(pk=app.pk).update(requested_scopes="openid profile")

    approved = services.application_scopes_approve(client_id=app.client_id)

    app.refresh_from_db()
    assert approved == ["openid", "profile"]
    assert app.allowed_scope_list == ["openid", "profile", "books:read"]
    assert app.algorithm == "RS256"


def test_deciding_without_a_request_changes_nothing(admin_client):
    app = ApplicationFactory(allowed_scopes="books:read")

    response = act(admin_client, "approve_scopes", app)

    assert "None of the selected applications requested scopes." in (
        response.content.decode()
    )
    assert not AuditEvent.objects.filter(event=Event.APPLICATION_CHANGED).exists()


def test_an_approval_the_rules_refuse_is_reported(admin_client):
    app = requesting("openid", allowed="books:read", name="Machine")
    Application.objects.filter(pk=app.pk).update(
        authorization_grant_type="client-credentials",
        redirect_uris="",
        post_logout_redirect_uris="",
    )

    response = act(admin_client, "approve_scopes", app)

    assert "Machine: Client credentials have no signed-in user" in (
        response.content.decode()
    )
    app.refresh_from_db()
    assert (app.allowed_scopes, app.requested_scopes) == ("books:read", "openid")


@pytest.mark.parametrize(("value", "listed"), [("pending", "Asking"), ("none", "Not")])
def test_admin_filters_applications_with_a_pending_request(admin_client, value, listed):
    requesting("books:write", name="Asking")
    ApplicationFactory(name="Not")

    response = admin_client.get(CHANGELIST, {"scope_request": value})

    names = [app.name for app in response.context["cl"].result_list]
    assert names == [listed]
    assert "scope request pending" in response.content.decode()
    assert "column-requested_scopes" in response.content.decode()


def test_admin_searches_applications_by_developer(admin_client, user):
    ApplicationFactory(name="Mine", user=user)
    ApplicationFactory(name="Theirs")

    response = admin_client.get(CHANGELIST, {"q": user.username})

    assert [app.name for app in response.context["cl"].result_list] == ["Mine"]


# --- Tokens and codes ------------------------------------------------------------------


@pytest.mark.parametrize("model", ["accesstoken", "grant", "refreshtoken"])
def test_admin_searches_credentials_by_user_and_application(admin_client, model):
    changelist = reverse(f"admin:oauth2_provider_{model}_changelist")
    for field in ("user__username", "application__client_id", "application__name"):
        assert field in admin_client.get(changelist).context["cl"].search_fields


def test_admin_revoking_access_tokens_is_audited(admin_client, admin_user, user):
    token = AccessTokenFactory(user=user)

    admin_client.post(
        reverse("admin:oauth2_provider_accesstoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )

    assert not type(token).objects.filter(pk=token.pk).exists()
    [entry] = AuditEvent.objects.filter(event=Event.TOKEN_REVOKED)
    assert (entry.user, entry.application) == (admin_user, token.application)
    assert entry.details["token_user_id"] == user.pk
    assert token.cleartext not in str(entry.details)


def test_admin_revokes_authorization_codes(admin_client, user, web_app):
    Grant = get_grant_model()
    grant = Grant.objects.create(
        user=user,
        application=web_app,
        code="c" * 40,
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri="https://client.example/callback",
        scope="books:read",
    )

    response = admin_client.post(
        reverse("admin:oauth2_provider_grant_changelist"),
        {"action": "revoke_grants", "_selected_action": [grant.pk]},
        follow=True,
    )

    assert not Grant.objects.filter(pk=grant.pk).exists()
    assert "Revoked 1 authorization code." in response.content.decode()


# --- The developers group ----------------------------------------------------------------


def test_the_migration_creates_the_developers_group(db):
    assert Group.objects.filter(name=DEVELOPERS).exists()


def test_the_demo_user_is_a_developer(db, tmp_path, oauth2_settings_override):
    # The demo clients call back on loopback http, as `make run` allows.
    oauth2_settings_override(ALLOWED_REDIRECT_URI_SCHEMES=["https", "http"])
    services.demo_load(path=tmp_path / "demo.json")
    services.demo_load(path=tmp_path / "demo.json")

    group = Group.objects.get(name=DEVELOPERS)
    assert list(group.user_set.values_list("username", flat=True)) == ["demo"]
