"""Token exchange (RFC 8693): only the resource server a token was minted for may
exchange it, for no more than the token and the target allow."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from oauth_server import resource_servers
from oauth_server.conf import server_settings
from oauth_server.models import AuditEvent, TokenDelegation
from tests.conftest import basic_auth
from tests.factories import AccessTokenFactory, ApplicationFactory
from tests.oauth_server.flows import form_post, json_of, token_request

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
BOOKS = reverse("api:book-list", kwargs={"version": "v1"})


def uri_of(key: str) -> str:
    return next(s.uri for s in server_settings().resource_servers if s.key == key)


@pytest.fixture
def api_uri() -> str:
    return uri_of(resource_servers.API)


@pytest.fixture
def mcp_uri() -> str:
    return uri_of(resource_servers.MCP)


@pytest.fixture
def mcp_app(db):
    """The MCP server's own confidential client, as `make run` registers it."""
    return ApplicationFactory(
        client_id="bookshelf-mcp",
        name="Catalogue MCP server",
        authorization_grant_type="client-credentials",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="introspection",
    )


@pytest.fixture
def subject(reader, web_app, mcp_uri):
    """A token an agent (web_app) got for the MCP server, for the reader."""
    return AccessTokenFactory(
        user=reader,
        application=web_app,
        scope="openid books:read books:write",
        resource=[mcp_uri],
    )


def exchange(client, subject_value: str, *, auth, **overrides):
    data = {
        "grant_type": GRANT,
        "subject_token": subject_value,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "resource": uri_of(resource_servers.API),
        **overrides,
    }
    return token_request(
        client, {k: v for k, v in data.items() if v is not None}, auth=auth
    )


def mcp_auth(app) -> tuple[str, str]:
    return (app.client_id, app.cleartext_secret)


def introspect(client, introspector, value: str) -> dict:
    response = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {"token": value},
        auth=(introspector.client_id, introspector.cleartext_secret),
    )
    return json_of(response)


def test_discovery_advertises_token_exchange(db, client):
    document = client.get("/.well-known/oauth-authorization-server").json()
    assert GRANT in document["grant_types_supported"]


def test_mcp_server_exchanges_its_token_for_one_for_the_rest_api(
    client, api_client_for, mcp_app, subject, introspector, reader, web_app, api_uri
):
    """RFC 8693 §2.2 response; the new token is the user's, for the API, delegated."""
    response = exchange(client, subject.cleartext, auth=mcp_auth(mcp_app))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = json_of(response)
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "books:read books:write"
    assert 0 < body["expires_in"] <= 3600
    assert "refresh_token" not in body

    data = introspect(client, introspector, body["access_token"])
    assert data["active"] is True
    assert data["aud"] == [api_uri]
    assert data["act"] == {"client_id": "bookshelf-mcp"}
    assert data["client_id"] == web_app.client_id
    assert data["sub"] == str(reader.pk)
    assert api_client_for(body["access_token"]).get(BOOKS).status_code == 200

    event = AuditEvent.objects.get(event=AuditEvent.Event.TOKEN_EXCHANGED)
    assert event.user == reader
    assert event.application == web_app
    assert event.details["actor"] == "bookshelf-mcp"
    assert event.details["resource"] == api_uri
    assert body["access_token"] not in str(event.details)


def test_exchanged_token_lives_no_longer_than_its_subject(client, mcp_app, subject):
    subject.expires = timezone.now() + timedelta(seconds=90)
    subject.save()
    body = json_of(exchange(client, subject.cleartext, auth=mcp_auth(mcp_app)))
    assert body["expires_in"] <= 90
    new = TokenDelegation.objects.get().access_token
    assert new.expires <= subject.expires


def test_requested_scope_narrows(client, mcp_app, subject):
    response = exchange(
        client, subject.cleartext, auth=mcp_auth(mcp_app), scope="books:read"
    )
    assert json_of(response)["scope"] == "books:read"


@pytest.mark.parametrize(
    ("subject_scope", "requested"),
    [
        pytest.param("books:read", "books:write", id="beyond-subject"),
        pytest.param("books:read", "books:read introspection", id="beyond-target"),
        pytest.param("openid", None, id="nothing-for-target"),
    ],
)
def test_scope_cannot_widen(client, mcp_app, subject, subject_scope, requested):
    subject.scope = subject_scope
    subject.save()
    response = exchange(
        client, subject.cleartext, auth=mcp_auth(mcp_app), scope=requested
    )
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_scope"
    assert not TokenDelegation.objects.exists()
    assert not AuditEvent.objects.filter(event=AuditEvent.Event.TOKEN_EXCHANGED)


def test_another_confidential_client_is_unauthorized(client, web_app, subject):
    """A client that runs no registered resource server may not exchange."""
    response = exchange(
        client, subject.cleartext, auth=(web_app.client_id, web_app.cleartext_secret)
    )
    assert response.status_code == 400
    assert json_of(response)["error"] == "unauthorized_client"


def test_a_public_client_cannot_exchange(client, subject):
    """Not even one registered under the MCP server's client id: a public client
    proves nothing about who it is."""
    ApplicationFactory(
        client_id="bookshelf-mcp",
        client_type="public",
        allowed_scopes="books:read",
    )
    response = exchange(client, subject.cleartext, auth=None, client_id="bookshelf-mcp")
    assert response.status_code == 400
    assert json_of(response)["error"] == "unauthorized_client"


def test_wrong_secret_is_invalid_client(client, mcp_app, subject):
    response = exchange(client, subject.cleartext, auth=(mcp_app.client_id, "wrong"))
    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"


@pytest.mark.parametrize(
    "audience",
    [
        pytest.param(lambda: [uri_of(resource_servers.API)], id="api"),
        pytest.param(lambda: [], id="none"),
    ],
)
def test_subject_for_another_audience_is_refused(client, mcp_app, subject, audience):
    """The MCP server may exchange only tokens minted for itself."""
    subject.resource = audience()
    subject.save()
    response = exchange(client, subject.cleartext, auth=mcp_auth(mcp_app))
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_grant"


def revoke(client, subject, web_app):
    response = form_post(
        client,
        reverse("oauth2_provider:revoke-token"),
        {"token": subject.cleartext},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert response.status_code == 200


def expire(client, subject, web_app):
    subject.expires = timezone.now() - timedelta(seconds=1)
    subject.save()


def deactivate_app(client, subject, web_app):
    web_app.is_active = False
    web_app.save()


def machine_token(client, subject, web_app):
    subject.user = None
    subject.save()


@pytest.mark.parametrize("kill", [revoke, expire, deactivate_app, machine_token])
def test_dead_subject_is_invalid_grant(client, mcp_app, subject, web_app, kill):
    kill(client, subject, web_app)
    response = exchange(client, subject.cleartext, auth=mcp_auth(mcp_app))
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_grant"
    assert not TokenDelegation.objects.exists()


def test_unknown_subject_is_invalid_grant(client, mcp_app):
    response = exchange(client, "no-such-token", auth=mcp_auth(mcp_app))
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "resource",
    [
        "https://evil.example/",
        "/api/",
        "http://127.0.0.1:8002/mcp#x",
        "not a url",
    ],
)
def test_unknown_resource_is_invalid_target(client, mcp_app, subject, resource):
    response = exchange(
        client, subject.cleartext, auth=mcp_auth(mcp_app), resource=resource
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert json_of(response)["error"] == "invalid_target"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"resource": None}, id="no-resource"),
        pytest.param({"subject_token": None}, id="no-subject-token"),
        pytest.param({"subject_token_type": None}, id="no-subject-token-type"),
        pytest.param(
            {"subject_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
            id="refresh-token-type",
        ),
        pytest.param(
            {"requested_token_type": "urn:ietf:params:oauth:token-type:id_token"},
            id="id-token-requested",
        ),
        pytest.param({"actor_token": "x"}, id="actor-token"),
    ],
)
def test_missing_or_bad_parameters_are_invalid_request(
    client, mcp_app, subject, overrides
):
    response = exchange(client, subject.cleartext, auth=mcp_auth(mcp_app), **overrides)
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_request"
    assert json_of(response)["error_description"]


def test_two_resources_are_invalid_target(client, mcp_app, subject, api_uri, mcp_uri):
    """One audience per token (RFC 8707 §2 lets the server refuse more)."""
    body = urlencode(
        [
            ("grant_type", GRANT),
            ("subject_token", subject.cleartext),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("resource", api_uri),
            ("resource", mcp_uri),
        ]
    )
    response = client.post(
        reverse("oauth2_provider:token"),
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(*mcp_auth(mcp_app)),
    )
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_target"


@pytest.fixture
def bearer_cache_on(settings):
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "bearer_cache_seconds": 300,
        "bearer_cache_epoch_seconds": 300,
    }


def test_removing_the_application_kills_exchanged_tokens(
    bearer_cache_on, client, api_client_for, mcp_app, subject, reader, web_app
):
    """ "Remove access" in connected apps revokes what was exchanged, cache or not."""
    body = json_of(exchange(client, subject.cleartext, auth=mcp_auth(mcp_app)))
    api = api_client_for(body["access_token"])
    assert api.get(BOOKS).status_code == 200  # now in the bearer cache

    client.force_login(reader)
    response = client.post(
        reverse("oauth2_provider:connected-app-remove", kwargs={"pk": web_app.pk})
    )
    assert response.status_code == 302

    assert api.get(BOOKS).status_code == 401
    assert not get_access_token_model().objects.filter(user=reader).exists()


def test_exchange_query_budget(client, mcp_app, subject, django_assert_max_num_queries):
    """Client, subject token, then the token, its delegation and the audit event
    (and the transaction's savepoint pair)."""
    with django_assert_max_num_queries(7):
        response = exchange(client, subject.cleartext, auth=mcp_auth(mcp_app))
    assert response.status_code == 200, response.content
