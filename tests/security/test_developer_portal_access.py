"""The developer portal is for developers, each with their own applications; the
scopes an application may use are an administrator's decision."""

import pytest
from django.test import Client

from oauth_server import services
from oauth_server.models import Application
from tests.conftest import REQUEST_DEFAULTS
from tests.factories import DeveloperFactory, UserFactory
from tests.oauth_server.portal import (
    APP_PAGES,
    APPS,
    LOGIN,
    REGISTER,
    REQUESTS,
    client_credentials,
    form,
    register,
    url,
)


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


@pytest.mark.parametrize("name", APP_PAGES)
def test_anonymous_people_go_to_sign_in(client, app, name):
    target = url(name, app)

    response = client.get(target)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={target}"


@pytest.mark.parametrize("target", [APPS, REGISTER])
def test_anonymous_people_go_to_sign_in_from_the_list(client, db, target):
    response = client.get(target)

    assert response["Location"] == f"{LOGIN}?next={target}"


@pytest.mark.parametrize(("method", "name"), REQUESTS)
def test_people_outside_the_developers_group_get_a_clear_403(client, app, name, method):
    client.force_login(UserFactory(username="reader"))

    response = getattr(client, method)(url(name, app))

    assert response.status_code == 403
    assert "The developer portal is for developers" in response.content.decode()
    app.refresh_from_db()
    assert app.is_active


def test_the_list_is_403_for_people_outside_the_group(client, db):
    client.force_login(UserFactory(username="reader"))

    response = client.get(APPS)

    assert response.status_code == 403
    assert "ask an administrator" in response.content.decode()


@pytest.mark.parametrize(("method", "name"), REQUESTS)
def test_another_developers_application_is_not_found(client, app, name, method):
    client.force_login(DeveloperFactory(username="other"))
    secret = app.client_secret

    response = getattr(client, method)(url(name, app))

    assert response.status_code == 404
    app.refresh_from_db()
    assert (app.is_active, app.client_secret) == (True, secret)


@pytest.mark.parametrize("target", [REGISTER, "rotate", "deactivate", "edit"], ids=str)
def test_forms_need_the_csrf_token(developer, app, target):
    browser = Client(enforce_csrf_checks=True, **REQUEST_DEFAULTS)
    browser.force_login(developer)
    if target != REGISTER:
        target = url(f"developer-app-{target}", app)
    secret = app.client_secret

    response = browser.post(target, form(name="Forged"))

    assert response.status_code == 403
    app.refresh_from_db()
    assert (app.name, app.client_secret, app.is_active) == (
        "Nightly sync",
        secret,
        True,
    )
    assert Application.objects.count() == 1


def test_pages_cannot_be_framed(session, app):
    response = session.get(url("developer-app", app))

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_no_token_before_an_administrator_allows_a_scope(client, app):
    response = client_credentials(client, app, app.cleartext_secret, "")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_requested_scopes_are_not_granted(client, app):
    services.application_change(client_id=app.client_id, requested_scope="books:read")
    app.allowed_scopes = "introspection"
    app.save()

    response = client_credentials(client, app, app.cleartext_secret, "books:read")

    assert response.json()["error"] == "invalid_scope"
