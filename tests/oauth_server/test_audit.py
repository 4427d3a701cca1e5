"""The audit log: each security change writes its event, in its own transaction."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse
from oauth2_provider.models import get_access_token_model, get_device_grant_model

from oauth_server import audit, selectors, services
from oauth_server.models import Application, AuditEvent, Consent
from tests.factories import UserFactory, admin_application_form
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    decide_device,
    exchange_code,
    form_post,
    json_of,
    sign_in,
    start_device,
    token_request,
)

Event = AuditEvent.Event
DeviceGrant = get_device_grant_model()
PASSWORD = "correct horse battery"  # UserFactory's
WRONG_PASSWORD = "wrong-password-9f3c"
PERSONAL_TOKENS = reverse("api:personal-token-list", kwargs={"version": "v1"})
ADMIN_ADD = reverse("admin:oauth_server_application_add")


def events(event: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=event))


def only(event: str) -> AuditEvent:
    [entry] = events(event)
    return entry


def password_sign_in(client, password: str, username: str = "alice"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.7",
    )


def refresh(client, app, refresh_token: str):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return token_request(client, data, auth=(app.client_id, app.cleartext_secret))


def revoke(client, app, token: str):
    return form_post(
        client,
        reverse("oauth2_provider:revoke-token"),
        {"token": token, "token_type_hint": "access_token"},
        auth=(app.client_id, app.cleartext_secret),
    )


def code_request(app) -> CodeRequest:
    return CodeRequest(
        client_id=app.client_id, redirect_uri="https://client.example/callback"
    )


# --- Sign-in ---------------------------------------------------------------------------


def test_sign_in_success_names_user_and_address(client, user):
    assert password_sign_in(client, PASSWORD).status_code == 302

    entry = only(Event.SIGN_IN_SUCCEEDED)
    assert (entry.user, entry.username, entry.address) == (user, "alice", "203.0.113.7")


def test_sign_in_failure_keeps_the_name_typed_not_the_password(client, user):
    assert password_sign_in(client, WRONG_PASSWORD).status_code == 200

    entry = only(Event.SIGN_IN_FAILED)
    assert (entry.user, entry.username, entry.address) == (None, "alice", "203.0.113.7")
    assert entry.details == {}
    assert not events(Event.SIGN_IN_SUCCEEDED)


def test_lockout_is_recorded_once_the_limit_is_reached(client, user):
    for _ in range(4):
        password_sign_in(client, WRONG_PASSWORD)
    assert not events(Event.SIGN_IN_LOCKED_OUT)

    assert password_sign_in(client, WRONG_PASSWORD).status_code == 429

    assert only(Event.SIGN_IN_LOCKED_OUT).username == "alice"
    assert len(events(Event.SIGN_IN_FAILED)) == 5


# --- Consent ---------------------------------------------------------------------------


def test_consent_granted_records_the_scopes(client, user, web_app):
    client.force_login(user)
    assert "code" in authorize(client, code_request(web_app))

    entry = only(Event.CONSENT_GRANTED)
    assert (entry.user, entry.application, entry.client_id) == (
        user,
        web_app,
        web_app.client_id,
    )
    assert entry.details == {"scopes": ["openid", "profile", "books:read"]}


def test_consent_remembered_is_not_granted_again(client, user, web_app):
    """A second authorization within the consent on record asks nobody."""
    client.force_login(user)
    authorize(client, code_request(web_app))
    authorize(client, code_request(web_app))

    assert len(events(Event.CONSENT_GRANTED)) == 1


def test_consent_denied(client, user, web_app):
    client.force_login(user)

    answer = authorize(client, code_request(web_app), allow=False)

    assert answer["error"] == "access_denied"
    entry = only(Event.CONSENT_DENIED)
    assert (entry.user, entry.application) == (user, web_app)
    assert not events(Event.CONSENT_GRANTED)


@pytest.mark.parametrize(
    ("action", "event", "other"),
    [
        ("accept", Event.CONSENT_GRANTED, Event.CONSENT_DENIED),
        ("deny", Event.CONSENT_DENIED, Event.CONSENT_GRANTED),
    ],
)
def test_device_decision_is_recorded(client, user, device_app, action, event, other):
    started = start_device(client, device_app, scope="books:read")

    decide_device(client, user, started["user_code"], action=action)

    entry = only(event)
    assert (entry.user, entry.application) == (user, device_app)
    assert entry.details == {"scopes": ["books:read"], "device": True}
    assert not events(other)


def test_device_decision_and_event_commit_together(
    client, user, device_app, monkeypatch
):
    started = start_device(client, device_app)
    client.force_login(user)
    entered = client.post(
        reverse("oauth2_provider:device"), {"user_code": started["user_code"]}
    )

    def fail(*args, **kwargs):
        raise DatabaseError("audit log unavailable")

    monkeypatch.setattr(audit, "record", fail)
    client.raise_request_exception = False
    response = client.post(entered["Location"], {"action": "accept"})

    assert response.status_code == 500
    grant = DeviceGrant.objects.get(client_id=device_app.client_id)
    assert grant.status == grant.AUTHORIZATION_PENDING


def test_consent_revoked_from_connected_applications(client, user, web_app):
    sign_in(client, user, web_app)

    response = client.post(
        reverse("oauth2_provider:connected-app-remove", args=[web_app.pk])
    )

    assert response.status_code == 302
    entry = only(Event.CONSENT_REVOKED)
    assert (entry.user, entry.application) == (user, web_app)
    assert entry.details == {"tokens_revoked": 1}


# --- Tokens ----------------------------------------------------------------------------


def test_code_exchange_records_token_issued(client, user, web_app):
    sign_in(client, user, web_app)

    entry = only(Event.TOKEN_ISSUED)
    assert (entry.user, entry.application) == (user, web_app)
    assert entry.details == {
        "grant_type": "authorization_code",
        "scopes": ["openid", "profile", "books:read"],
    }


def test_client_credentials_records_token_issued(client, machine_app):
    response = token_request(
        client,
        {"grant_type": "client_credentials"},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )

    assert response.status_code == 200
    entry = only(Event.TOKEN_ISSUED)
    assert (entry.user, entry.application) == (None, machine_app)
    assert entry.details["grant_type"] == "client_credentials"


def test_refresh_records_token_refreshed(client, user, web_app):
    tokens = sign_in(client, user, web_app)

    assert refresh(client, web_app, tokens["refresh_token"]).status_code == 200

    entry = only(Event.TOKEN_REFRESHED)
    assert (entry.user, entry.application) == (user, web_app)
    assert entry.details["grant_type"] == "refresh_token"


def test_replayed_refresh_token_records_reuse(client, user, web_app):
    tokens = sign_in(client, user, web_app)
    refresh(client, web_app, tokens["refresh_token"])

    replay = refresh(client, web_app, tokens["refresh_token"])

    assert json_of(replay)["error"] == "invalid_grant"
    entry = only(Event.TOKEN_REUSE_DETECTED)
    assert (entry.user, entry.application) == (user, web_app)
    assert entry.details == {"grant_type": "refresh_token"}


def test_unknown_refresh_token_is_no_reuse(client, web_app):
    """A refresh token that was never issued is refused without a reuse event."""
    assert refresh(client, web_app, "never-issued").status_code == 400

    assert not events(Event.TOKEN_REUSE_DETECTED)


def test_replayed_code_records_reuse(client, user, web_app):
    client.force_login(user)
    request = code_request(web_app)
    code = authorize(client, request)["code"]
    auth = (web_app.client_id, web_app.cleartext_secret)
    assert exchange_code(client, request, code, auth=auth).status_code == 200

    replay = exchange_code(client, request, code, auth=auth)

    assert replay.status_code == 400
    entry = only(Event.TOKEN_REUSE_DETECTED)
    assert (entry.user, entry.application) == (user, web_app)
    assert entry.details == {"grant_type": "authorization_code"}


def test_revocation_endpoint_records_token_revoked(client, user, web_app):
    tokens = sign_in(client, user, web_app)

    assert revoke(client, web_app, tokens["access_token"]).status_code == 200

    entry = only(Event.TOKEN_REVOKED)
    assert entry.application == web_app
    assert entry.details == {"token_type_hint": "access_token"}


# --- Applications ----------------------------------------------------------------------


def test_registerapp_records_application_created(db):
    call_command(
        "registerapp",
        "--name=CLI app",
        "--client-type=confidential",
        "--grant-type=client-credentials",
        "--scopes=books:read",
        stdout=StringIO(),
    )

    entry = only(Event.APPLICATION_CREATED)
    assert entry.application == Application.objects.get(name="CLI app")
    assert entry.user is None


def test_admin_records_application_created_and_changed(admin_client, admin_user):
    response = admin_client.post(ADMIN_ADD, admin_application_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    app = Application.objects.get(client_id="partner")

    response = admin_client.post(
        reverse("admin:oauth_server_application_change", args=[app.pk]),
        admin_application_form(name="Partner 2", client_secret=app.client_secret),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    created, changed = only(Event.APPLICATION_CREATED), only(Event.APPLICATION_CHANGED)
    assert (created.user, created.client_id) == (admin_user, "partner")
    assert (changed.user, changed.application) == (admin_user, app)
    assert "name" in changed.details["fields"]  # names of fields, never values


def test_rotatesecret_records_secret_rotated(web_app):
    call_command("rotatesecret", web_app.client_id, stdout=StringIO())

    assert only(Event.APPLICATION_SECRET_ROTATED).application == web_app


def test_admin_deactivation_records_deactivated(admin_client, admin_user, web_app):
    response = admin_client.post(
        reverse("admin:oauth_server_application_changelist"),
        {"action": "deactivate", "_selected_action": [web_app.pk]},
    )

    assert response.status_code == 302
    entry = only(Event.APPLICATION_DEACTIVATED)
    assert (entry.user, entry.application) == (admin_user, web_app)


def test_deactivateapp_records_deactivated(web_app):
    call_command("deactivateapp", web_app.client_id, stdout=StringIO())

    entry = only(Event.APPLICATION_DEACTIVATED)
    assert (entry.user, entry.application) == (None, web_app)


def test_deleted_application_keeps_its_client_id(web_app):
    client_id = web_app.client_id
    call_command("rotatesecret", client_id, stdout=StringIO())

    web_app.delete()

    entry = only(Event.APPLICATION_SECRET_ROTATED)
    assert (entry.application, entry.client_id) == (None, client_id)


# --- Personal access tokens -----------------------------------------------------------


def test_personal_token_created_and_revoked(api_client, reader):
    api_client.force_login(reader)
    body = api_client.post(
        PERSONAL_TOKENS, {"name": "laptop", "scope": "books:read"}, format="json"
    ).json()
    detail = reverse(
        "api:personal-token-detail", kwargs={"version": "v1", "pk": body["id"]}
    )

    assert api_client.delete(detail).status_code == 204

    created = only(Event.PERSONAL_TOKEN_CREATED)
    revoked = only(Event.PERSONAL_TOKEN_REVOKED)
    assert created.user == revoked.user == reader
    assert created.details == {
        "name": "laptop",
        "scopes": ["books:read"],
        "expires_in_days": 30,
    }
    assert revoked.details == {"name": "laptop"}


def test_createpersonaltoken_records_created(reader):
    call_command("createpersonaltoken", "reader", "--name=cron", stdout=StringIO())

    entry = only(Event.PERSONAL_TOKEN_CREATED)
    assert (entry.user, entry.details["name"]) == (reader, "cron")


# --- One transaction with the change ---------------------------------------------------


def test_rolled_back_change_leaves_no_event(db):
    def register_then_fail() -> None:
        with transaction.atomic():
            services.application_register(
                name="Gone",
                client_type="public",
                grant_type="device-code",
                scope="openid",
            )
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        register_then_fail()

    assert not AuditEvent.objects.exists()
    assert not Application.objects.filter(name="Gone").exists()


def test_failed_event_undoes_the_change(client, user, web_app, monkeypatch):
    """Removing access whose event cannot be written removes nothing."""
    sign_in(client, user, web_app)

    def broken(*args, **kwargs):
        raise DatabaseError("audit log unavailable")

    monkeypatch.setattr(audit, "unsaved", broken)
    with pytest.raises(DatabaseError):
        client.post(reverse("oauth2_provider:connected-app-remove", args=[web_app.pk]))

    assert Consent.objects.filter(user=user, application=web_app).exists()
    assert get_access_token_model().objects.filter(user=user).count() == 1


def test_failed_event_issues_no_tokens(client, user, web_app, monkeypatch):
    """At the token endpoint the tokens and their event commit together."""
    client.force_login(user)
    request = code_request(web_app)
    code = authorize(client, request)["code"]

    def broken(*args, **kwargs):
        raise DatabaseError("audit log unavailable")

    monkeypatch.setattr(audit, "unsaved", broken)
    with pytest.raises(DatabaseError):
        exchange_code(
            client, request, code, auth=(web_app.client_id, web_app.cleartext_secret)
        )

    assert not get_access_token_model().objects.exists()


@pytest.mark.django_db(transaction=True)
def test_client_credentials_token_and_event_commit_together(
    client, machine_app, monkeypatch
):
    """Outside any test transaction, as in production: no event, no token."""

    def broken(*args, **kwargs):
        raise DatabaseError("audit log unavailable")

    monkeypatch.setattr(audit, "unsaved", broken)
    with pytest.raises(DatabaseError):
        token_request(
            client,
            {"grant_type": "client_credentials"},
            auth=(machine_app.client_id, machine_app.cleartext_secret),
        )

    assert not get_access_token_model().objects.exists()


# --- Admin -----------------------------------------------------------------------------


@pytest.fixture
def logged(client, user):
    password_sign_in(client, WRONG_PASSWORD)
    return only(Event.SIGN_IN_FAILED)


def test_admin_lists_filters_and_searches(admin_client, logged, web_app):
    call_command("rotatesecret", web_app.client_id, stdout=StringIO())
    changelist = reverse("admin:oauth_server_auditevent_changelist")

    def listed(**query) -> set[str]:
        response = admin_client.get(changelist, query)
        assert response.status_code == 200
        return {entry.event for entry in response.context["cl"].result_list}

    assert Event.SIGN_IN_FAILED in listed()
    assert listed(event=Event.APPLICATION_SECRET_ROTATED) == {
        Event.APPLICATION_SECRET_ROTATED
    }
    assert listed(q="alice") == {Event.SIGN_IN_FAILED}
    assert listed(q=web_app.client_id) == {Event.APPLICATION_SECRET_ROTATED}
    response = admin_client.get(changelist)
    [dates] = [f for f in response.context["cl"].filter_specs if f.title == "created"]
    [today] = [
        c for c in dates.choices(response.context["cl"]) if c["display"] == "Today"
    ]
    assert (
        admin_client.get(changelist + today["query_string"]).context["cl"].result_count
        == AuditEvent.objects.count()
    )


def test_admin_is_read_only(admin_client, logged):
    change = reverse("admin:oauth_server_auditevent_change", args=[logged.pk])
    delete = reverse("admin:oauth_server_auditevent_delete", args=[logged.pk])

    assert (
        admin_client.get(reverse("admin:oauth_server_auditevent_add")).status_code
        == 403
    )
    assert admin_client.get(change).status_code == 200  # viewing only
    assert (
        admin_client.post(change, {"event": Event.SIGN_IN_SUCCEEDED}).status_code == 403
    )
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=logged.pk).event == Event.SIGN_IN_FAILED


# --- Selector --------------------------------------------------------------------------


def test_security_events_are_the_users_newest_first(
    client, user, web_app, django_assert_num_queries
):
    sign_in(client, user, web_app)
    other = UserFactory(username="bob")
    client.force_login(other)

    with django_assert_num_queries(1):
        recent = list(selectors.security_events(user=user, limit=3))

    assert [entry.event for entry in recent] == [
        Event.TOKEN_ISSUED,
        Event.CONSENT_GRANTED,
        Event.SIGN_IN_SUCCEEDED,
    ]
    assert recent[0].application == web_app  # joined, no further query
    assert len(selectors.security_events(user=other)) == 1


# --- Never a secret ---------------------------------------------------------------------


def test_no_secret_token_code_or_password_is_stored(
    client, admin_client, api_client, user, web_app, machine_app, reader
):
    """Every flow above, then every stored row scanned for the cleartext values."""
    secrets = {PASSWORD, WRONG_PASSWORD, web_app.cleartext_secret}
    secrets.add(machine_app.cleartext_secret)
    for _ in range(5):
        password_sign_in(client, WRONG_PASSWORD, username="bob")
    password_sign_in(client, PASSWORD)

    client.force_login(user)
    request = code_request(web_app)
    code = authorize(client, request)["code"]
    auth = (web_app.client_id, web_app.cleartext_secret)
    tokens = json_of(exchange_code(client, request, code, auth=auth))
    secrets |= {code, request.verifier, tokens["access_token"], tokens["id_token"]}
    secrets.add(tokens["refresh_token"])
    refreshed = json_of(refresh(client, web_app, tokens["refresh_token"]))
    secrets |= {refreshed["access_token"], refreshed["refresh_token"]}
    refresh(client, web_app, tokens["refresh_token"])  # replay: the family goes
    exchange_code(client, request, code, auth=auth)  # replay
    issued = json_of(
        token_request(
            client,
            {"grant_type": "client_credentials"},
            auth=(machine_app.client_id, machine_app.cleartext_secret),
        )
    )
    secrets.add(issued["access_token"])
    revoke(client, web_app, refreshed["access_token"])

    api_client.force_login(reader)
    personal = api_client.post(
        PERSONAL_TOKENS, {"name": "laptop", "scope": "books:read"}, format="json"
    ).json()
    secrets.add(personal["token"])
    rotated = services.application_rotate_secret(client_id=web_app.client_id)
    secrets.add(rotated.client_secret)
    admin_client.post(ADMIN_ADD, admin_application_form(client_secret="t" * 40))
    secrets.add("t" * 40)
    registered = services.application_register(
        name="CLI",
        client_type="confidential",
        grant_type="client-credentials",
        scope="books:read",
    )
    secrets.add(registered.client_secret)

    assert {entry.event for entry in AuditEvent.objects.all()} >= {
        Event.SIGN_IN_FAILED,
        Event.SIGN_IN_LOCKED_OUT,
        Event.SIGN_IN_SUCCEEDED,
        Event.TOKEN_ISSUED,
        Event.TOKEN_REFRESHED,
        Event.TOKEN_REUSE_DETECTED,
        Event.TOKEN_REVOKED,
        Event.PERSONAL_TOKEN_CREATED,
        Event.APPLICATION_SECRET_ROTATED,
        Event.APPLICATION_CREATED,
    }
    stored = json.dumps(
        list(AuditEvent.objects.values()), default=str, ensure_ascii=False
    )
    leaked = [secret for secret in secrets if secret and secret in stored]
    assert not leaked
