"""The developer portal: registering with errors inline, secrets shown once,
deactivation, and the audit event of each change (who may use it:
tests/security/test_developer_portal_access.py)."""

import re

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import get_access_token_model

from oauth_server import services
from oauth_server.models import Application, AuditEvent
from tests.conftest import REQUEST_DEFAULTS
from tests.factories import AccessTokenFactory, DeveloperFactory, UserFactory
from tests.oauth_server.portal import (
    APPS,
    REGISTER,
    SECRET,
    client_credentials,
    form,
    register,
    url,
)

Event = AuditEvent.Event


def only(event: str) -> AuditEvent:
    [entry] = AuditEvent.objects.filter(event=event)
    return entry


@pytest.fixture
def developer(db):
    return DeveloperFactory(username="dev")


@pytest.fixture
def session(client, developer) -> Client:
    client.force_login(developer)
    return client


@pytest.fixture
def app(developer) -> Application:
    return register(developer)


def test_the_list_shows_only_my_applications(session, app):
    register(DeveloperFactory(username="other"), name="Not mine")

    page = session.get(APPS).content.decode()

    assert app.client_id in page
    assert "Not mine" not in page
    assert "Scope request pending" in page


@pytest.mark.parametrize(
    ("make_user", "shown"),
    [(lambda: DeveloperFactory(username="d"), True), (UserFactory, False)],
)
def test_the_nav_links_the_portal_for_developers_only(client, db, make_user, shown):
    client.force_login(make_user())

    page = client.get(reverse("oauth2_provider:account")).content.decode()

    assert (f'href="{APPS}"' in page) is shown


# --- Register ------------------------------------------------------------------------


def test_registering_shows_the_secret_once_and_requests_scopes(session, developer):
    response = session.post(REGISTER, form(requested_scopes=["books:read"]))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = SECRET.search(response.content.decode()).group(1)
    app = Application.objects.get()
    assert (app.user, app.allowed_scopes, app.requested_scopes) == (
        developer,
        "",
        "books:read",
    )
    assert check_password(secret, app.client_secret)
    assert secret not in app.client_secret  # stored only as a hash
    detail = session.get(url("developer-app", app)).content.decode()
    assert app.client_id in detail
    assert secret not in detail
    assert 'id="requested-scopes"' in detail
    entry = only(Event.APPLICATION_CREATED)
    assert (entry.user, entry.application) == (developer, app)
    assert entry.details["requested_scopes"] == ["books:read"]
    assert secret not in str(entry.details)


def test_registering_a_public_client_goes_to_its_page(session):
    response = session.post(
        REGISTER,
        form(
            client_type="public",
            authorization_grant_type="authorization-code",
            redirect_uris="https://app.example/cb\nhttps://app.example/cb2",
            requested_scopes=["openid", "books:read"],
        ),
    )

    app = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("developer-app", app)
    assert app.redirect_uris == "https://app.example/cb https://app.example/cb2"
    assert app.algorithm == "RS256"  # so that openid works once approved


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "   "}, "name", "This field is required."),
        ({"requested_scopes": []}, "requested_scopes", "Request at least one scope."),
        (
            {"requested_scopes": ["openid"]},
            "requested_scopes",
            "Client credentials have no signed-in user, so they cannot be allowed "
            "openid.",
        ),
        (
            {"client_type": "public", "requested_scopes": ["books:read"]},
            "client_type",
            "Client credentials need a confidential client.",
        ),
        (
            {"redirect_uris": "https://sync.example/cb"},
            "redirect_uris",
            "This grant never redirects to the client; leave redirect URIs empty.",
        ),
        (
            {
                "authorization_grant_type": "authorization-code",
                "redirect_uris": "http://app.example/cb",
            },
            "redirect_uris",
            "http://app.example/cb: http is allowed for loopback hosts only; use "
            "https.",
        ),
        (
            {
                "authorization_grant_type": "authorization-code",
                "redirect_uris": "https://app.example/cb#top",
            },
            "redirect_uris",
            "https://app.example/cb#top: a redirect URI must not have a fragment.",
        ),
        ({"logo_url": "not a url"}, "logo_url", "Enter a valid URL."),
        (
            {"client_type": "private"},
            "client_type",
            "Select a valid choice. private is not one of the available choices.",
        ),
    ],
)
def test_problems_are_shown_next_to_their_field(session, overrides, field, message):
    response = session.post(REGISTER, form(**overrides))

    assert response.status_code == 200
    page = response.content.decode()
    errors = re.search(rf'id="id_{field}_error">(.*?)</ul>', page, re.S).group(1)
    assert f"<li>{message}</li>" in errors.replace("&#x27;", "'")
    assert 'role="alert"' in page
    assert not Application.objects.exists()
    assert not AuditEvent.objects.filter(event=Event.APPLICATION_CREATED).exists()


# --- Edit ----------------------------------------------------------------------------


def test_editing_changes_the_request_never_the_allowed_scopes(session, developer, app):
    services.application_scopes_approve(client_id=app.client_id)
    page = session.get(url("developer-app-edit", app)).content.decode()
    assert 'id="id_requested_scopes_3" checked disabled' in page  # books:read

    response = session.post(
        url("developer-app-edit", app),
        form(
            name="Nightly sync 2",
            requested_scopes=["books:read", "books:write"],
            client_type="public",  # not on the edit form: ignored
        ),
    )

    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.name, app.client_type) == ("Nightly sync 2", "confidential")
    assert (app.allowed_scopes, app.requested_scopes) == ("books:read", "books:write")
    [entry] = AuditEvent.objects.filter(event=Event.APPLICATION_CHANGED, user=developer)
    assert entry.details == {
        "fields": ["name", "requested_scopes"],
        "requested_scopes": ["books:write"],
    }


def test_editing_shows_problems_inline(session, app):
    response = session.post(
        url("developer-app-edit", app), form(requested_scopes=["email"])
    )

    assert response.status_code == 200
    assert "cannot be allowed email" in response.content.decode()
    app.refresh_from_db()
    assert app.requested_scopes == "books:read"


def test_saving_nothing_new_writes_no_event(session, app):
    session.post(url("developer-app-edit", app), form())

    assert not AuditEvent.objects.filter(event=Event.APPLICATION_CHANGED).exists()


# --- Rotate the secret ---------------------------------------------------------------


def test_rotating_asks_first(session, app):
    secret = app.client_secret

    response = session.get(url("developer-app-rotate", app))

    assert "Rotate the client secret of Nightly sync?" in response.content.decode()
    app.refresh_from_db()
    assert app.client_secret == secret


def test_rotated_secret_is_shown_once_and_the_old_one_fails(session, developer, app):
    services.application_scopes_approve(client_id=app.client_id)
    old = app.cleartext_secret

    response = session.post(url("developer-app-rotate", app))

    assert "no-store" in response["Cache-Control"]
    new = SECRET.search(response.content.decode()).group(1)
    assert new != old
    refused = client_credentials(Client(**REQUEST_DEFAULTS), app, old, "books:read")
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    issued = client_credentials(Client(**REQUEST_DEFAULTS), app, new, "books:read")
    assert issued.status_code == 200, issued.content
    assert issued.json()["scope"] == "books:read"
    assert new not in session.get(url("developer-app", app)).content.decode()
    entry = only(Event.APPLICATION_SECRET_ROTATED)
    assert (entry.user, entry.application) == (developer, app)


def test_public_clients_have_no_secret_to_rotate(session, developer):
    app = register(
        developer,
        client_type="public",
        authorization_grant_type="device-code",
        requested_scopes=["books:read"],
    )

    assert session.get(url("developer-app-rotate", app)).status_code == 404
    assert "Rotate" not in session.get(url("developer-app", app)).content.decode()


# --- Deactivate ----------------------------------------------------------------------


def test_deactivating_asks_then_revokes_everything(session, developer, app):
    AccessTokenFactory(user=None, application=app)
    assert session.get(url("developer-app-deactivate", app)).status_code == 200
    app.refresh_from_db()
    assert app.is_active

    response = session.post(url("developer-app-deactivate", app), follow=True)

    app.refresh_from_db()
    assert not app.is_active
    assert not get_access_token_model().objects.filter(application=app).exists()
    assert "Deactivated" in response.content.decode()
    entry = only(Event.APPLICATION_DEACTIVATED)
    assert (entry.user, entry.application) == (developer, app)
    for name in ("developer-app-edit", "developer-app-rotate"):
        assert session.get(url(name, app)).status_code == 404
