"""Resource indicators (RFC 8707) at the authorization and token endpoints."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oauth2_provider.models import get_access_token_model

from oauth_server import resource_servers
from oauth_server.conf import server_settings
from oauth_server.tokens import checksum
from tests.oauth_server.flows import (
    DEVICE_GRANT,
    CodeRequest,
    authorize,
    decide_device,
    exchange_code,
    form_post,
    json_of,
    query_of,
    start_device,
    token_request,
)

REDIRECT_URI = "https://client.example/callback"


def uri_of(key: str) -> str:
    return next(s.uri for s in server_settings().resource_servers if s.key == key)


@pytest.fixture
def api_uri() -> str:
    return uri_of(resource_servers.API)


@pytest.fixture
def mcp_uri() -> str:
    return uri_of(resource_servers.MCP)


def code_request(web_app, scope="openid books:read") -> CodeRequest:
    return CodeRequest(
        client_id=web_app.client_id, redirect_uri=REDIRECT_URI, scope=scope
    )


def with_resources(url: str, *resources: str) -> str:
    """`url` with `resource` repeated (RFC 8707 §2)."""
    return url + "".join(f"&{urlencode({'resource': r})}" for r in resources)


def tokens_for(client, user, web_app, *, resource=None, scope="openid books:read"):
    """The code flow with `resource` at the authorization step."""
    client.force_login(user)
    request = code_request(web_app, scope)
    page = client.get(with_resources(request.url(), *([resource] if resource else [])))
    assert page.status_code == 200, page.content[:300]
    form = {**request.params(), "allow": "Authorize"}
    form["resource"] = page.context["form"].initial.get("resource") or ""
    form["scope"] = page.context["form"].initial["scope"]
    response = client.post(reverse("oauth2_provider:authorize"), form)
    assert response.status_code == 302, response.content[:300]
    code = query_of(response["Location"])["code"]
    auth = (web_app.client_id, web_app.cleartext_secret)
    return exchange_code(client, request, code, auth=auth)


def introspect(client, introspector, token: str) -> dict:
    response = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {"token": token},
        auth=(introspector.client_id, introspector.cleartext_secret),
    )
    assert response.status_code == 200
    return json_of(response)


# --- Authorization endpoint ------------------------------------------------------------


BAD_RESOURCES = [
    pytest.param("https://evil.example/", id="unknown-host"),
    pytest.param("http://127.0.0.1:8000/admin/", id="unknown-path-same-origin"),
    pytest.param("/api/", id="relative"),
    pytest.param("http://127.0.0.1:8002/mcp#top", id="fragment"),
    pytest.param("http://127.0.0.1:8002/mcp?tenant=1", id="query"),
    pytest.param("not a url", id="not-a-url"),
    pytest.param("urn:bookshelf:api", id="urn"),
    pytest.param("ftp://127.0.0.1:8002/mcp", id="other-scheme"),
    pytest.param("http://user@127.0.0.1:8002/mcp", id="userinfo"),
]


@pytest.mark.parametrize("resource", BAD_RESOURCES)
def test_authorization_refuses_an_unknown_resource(client, user, web_app, resource):
    """An unknown or malformed resource goes back to the client as invalid_target."""
    client.force_login(user)
    request = code_request(web_app)
    response = client.get(request.url(resource=resource))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_target"
    assert answer["state"] == request.state
    assert "code" not in answer


def test_authorization_with_bad_redirect_uri_shows_the_error_page(
    client, user, web_app
):
    """A bad redirect URI is never redirected to, whatever the resource."""
    client.force_login(user)
    request = code_request(web_app)
    response = client.get(
        request.url(
            resource="https://evil.example/", redirect_uri="https://evil.example/cb"
        )
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_authorization_refuses_two_resources(client, user, web_app, api_uri, mcp_uri):
    """One audience per token: a second resource is invalid_target."""
    client.force_login(user)
    request = code_request(web_app)
    response = client.get(with_resources(request.url(), api_uri, mcp_uri))
    assert query_of(response["Location"])["error"] == "invalid_target"


@pytest.mark.parametrize("scope", ["books:read introspection", "introspection"])
def test_authorization_refuses_scopes_the_resource_does_not_accept(
    client, user, introspector, mcp_uri, scope
):
    """An explicit scope outside what the resource accepts is invalid_scope."""
    introspector.authorization_grant_type = "authorization-code"
    introspector.redirect_uris = REDIRECT_URI
    introspector.allowed_scopes = "books:read introspection"
    introspector.save()
    client.force_login(user)
    request = CodeRequest(
        client_id=introspector.client_id, redirect_uri=REDIRECT_URI, scope=scope
    )
    response = client.get(request.url(resource=mcp_uri))
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_scope"
    assert mcp_uri in answer["error_description"]


def test_default_scopes_are_narrowed_to_the_resource(client, user, web_app, mcp_uri):
    """Without `scope`, the application's scopes the resource accepts are asked."""
    web_app.allowed_scopes = "books:read introspection"
    web_app.algorithm = ""
    web_app.save()
    client.force_login(user)
    request = code_request(web_app)
    page = client.get(request.url(scope=None, resource=mcp_uri))
    assert page.status_code == 200
    assert page.context["form"].initial["scope"] == "books:read"


def test_code_flow_with_resource_mints_an_audience_bound_token(
    client, user, web_app, introspector, mcp_uri
):
    """The token's aud is the canonical URI, whatever trailing slash was sent."""
    response = tokens_for(client, user, web_app, resource=mcp_uri + "/")
    assert response.status_code == 200, response.content
    tokens = json_of(response)
    assert tokens["scope"] == "openid books:read"
    data = introspect(client, introspector, tokens["access_token"])
    assert data["aud"] == [mcp_uri]
    assert "act" not in data


def test_code_flow_without_resource_is_unchanged(client, user, web_app, introspector):
    """No resource: no audience, as before."""
    tokens = json_of(tokens_for(client, user, web_app))
    data = introspect(client, introspector, tokens["access_token"])
    assert data["active"] is True
    assert "aud" not in data


def test_api_token_introspects_with_the_api_audience(
    client, user, web_app, introspector, api_uri
):
    tokens = json_of(tokens_for(client, user, web_app, resource=api_uri))
    assert introspect(client, introspector, tokens["access_token"])["aud"] == [api_uri]


# --- Token endpoint --------------------------------------------------------------------


@pytest.mark.parametrize("resource", BAD_RESOURCES)
def test_client_credentials_refuses_an_unknown_resource(client, machine_app, resource):
    """invalid_target as RFC 6749 §5.2 JSON, never an HTML page."""
    response = token_request(
        client,
        {"grant_type": "client_credentials", "resource": resource},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert json_of(response)["error"] == "invalid_target"


def test_client_credentials_with_a_known_resource(
    client, machine_app, introspector, api_uri
):
    response = token_request(
        client,
        {"grant_type": "client_credentials", "resource": api_uri},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )
    assert response.status_code == 200, response.content
    token = json_of(response)["access_token"]
    assert introspect(client, introspector, token)["aud"] == [api_uri]


def test_client_credentials_refuses_scope_outside_the_resource(
    client, introspector, mcp_uri
):
    response = token_request(
        client,
        {
            "grant_type": "client_credentials",
            "resource": mcp_uri,
            "scope": "introspection",
        },
        auth=(introspector.client_id, introspector.cleartext_secret),
    )
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_scope"


def test_token_request_cannot_widen_the_code_audience(
    client, user, web_app, api_uri, mcp_uri
):
    """A code for the MCP server cannot be redeemed for the REST API."""
    client.force_login(user)
    request = code_request(web_app)
    page = client.get(request.url(resource=mcp_uri))
    form = {**request.params(), "allow": "Authorize", "resource": mcp_uri}
    code = query_of(client.post(reverse("oauth2_provider:authorize"), form)["Location"])
    assert page.status_code == 200
    response = exchange_code(
        client,
        request,
        code["code"],
        auth=(web_app.client_id, web_app.cleartext_secret),
        resource=api_uri,
    )
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_target"


def test_token_request_may_name_the_granted_resource(
    client, user, web_app, introspector, mcp_uri
):
    client.force_login(user)
    request = code_request(web_app)
    client.get(request.url(resource=mcp_uri))
    form = {**request.params(), "allow": "Authorize", "resource": mcp_uri}
    code = query_of(client.post(reverse("oauth2_provider:authorize"), form)["Location"])
    response = exchange_code(
        client,
        request,
        code["code"],
        auth=(web_app.client_id, web_app.cleartext_secret),
        resource=mcp_uri,
    )
    assert response.status_code == 200, response.content
    token = json_of(response)["access_token"]
    assert introspect(client, introspector, token)["aud"] == [mcp_uri]


def test_refresh_cannot_widen_the_audience(client, user, web_app, api_uri, mcp_uri):
    """A refresh token for the MCP server yields no token for the REST API."""
    tokens = json_of(tokens_for(client, user, web_app, resource=mcp_uri))
    response = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "resource": api_uri,
        },
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_target"


def test_refresh_keeps_the_audience(client, user, web_app, introspector, mcp_uri):
    tokens = json_of(tokens_for(client, user, web_app, resource=mcp_uri))
    response = token_request(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert response.status_code == 200, response.content
    token = json_of(response)["access_token"]
    assert introspect(client, introspector, token)["aud"] == [mcp_uri]


def redemption_queries(client, user, web_app, resource: str | None) -> int:
    """How many queries the token endpoint makes to redeem one code."""
    client.force_login(user)
    request = code_request(web_app)
    client.get(with_resources(request.url(), *([resource] if resource else [])))
    form = {**request.params(), "allow": "Authorize"}
    if resource:
        form["resource"] = resource
    code = query_of(client.post(reverse("oauth2_provider:authorize"), form)["Location"])
    auth = (web_app.client_id, web_app.cleartext_secret)
    with CaptureQueriesContext(connection) as queries:
        response = exchange_code(client, request, code["code"], auth=auth)
    assert response.status_code == 200, response.content
    return len(queries)


def test_resource_indicators_add_no_query_to_the_token_endpoint(
    client, user, web_app, mcp_uri
):
    """Checking the resource reads nothing: the registry is settings, the grant's
    audience comes with the grant already read."""
    without = redemption_queries(client, user, web_app, None)
    assert redemption_queries(client, user, web_app, mcp_uri) == without


def test_authorize_helper_still_works_without_resource(client, user, web_app):
    """The shared flow helper (no resource) still gets a code."""
    client.force_login(user)
    assert "code" in authorize(client, code_request(web_app))


def test_consent_form_with_a_forged_resource_is_refused(client, user, web_app):
    """The consent form's hidden resource field is checked again when posted."""
    client.force_login(user)
    request = code_request(web_app)
    assert client.get(request.url()).status_code == 200
    form = {
        **request.params(),
        "allow": "Authorize",
        "resource": "https://evil.example/",
    }
    response = client.post(reverse("oauth2_provider:authorize"), form)
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_target"
    assert answer["state"] == request.state


def test_remembered_consent_keeps_the_resource(
    client, user, web_app, introspector, mcp_uri
):
    """Without the consent page (consent on record) the code is still for the
    resource asked for."""
    client.force_login(user)
    authorize(client, code_request(web_app))  # consent now on record
    request = code_request(web_app)
    response = client.get(request.url(resource=mcp_uri))
    assert response.status_code == 302
    code = query_of(response["Location"])["code"]
    auth = (web_app.client_id, web_app.cleartext_secret)
    tokens = json_of(exchange_code(client, request, code, auth=auth))
    assert introspect(client, introspector, tokens["access_token"])["aud"] == [mcp_uri]


def test_resource_from_the_rest_api_metadata_is_known(
    client, settings, issuer, machine_app, introspector
):
    """RFC 9728's `resource` for the API (its origin) names the REST API; the token
    records the API's canonical URI."""
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "resource_servers": resource_servers.registry(
            api_url=f"{issuer}/api/", mcp_url="http://127.0.0.1:8002/mcp"
        ),
    }
    resource = client.get("/.well-known/oauth-protected-resource").json()["resource"]
    response = token_request(
        client,
        {"grant_type": "client_credentials", "resource": resource},
        auth=(machine_app.client_id, machine_app.cleartext_secret),
    )
    assert response.status_code == 200, response.content
    token = json_of(response)["access_token"]
    assert introspect(client, introspector, token)["aud"] == [f"{issuer}/api/"]


def test_device_grant_checks_the_resource(client, user, device_app, mcp_uri):
    """The device grant's token request takes a known resource, refuses others."""
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"])
    data = {
        "grant_type": DEVICE_GRANT,
        "device_code": started["device_code"],
        "client_id": device_app.client_id,
        "resource": "https://evil.example/",
    }
    refused = token_request(client, data)
    assert refused.status_code == 400
    assert json_of(refused)["error"] == "invalid_target"
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"])
    data.update(device_code=started["device_code"], resource=mcp_uri)
    issued = token_request(client, data)
    assert issued.status_code == 200, issued.content
    token = get_access_token_model().objects.get(
        token_checksum=checksum(json_of(issued)["access_token"])
    )
    assert token.resource == [mcp_uri]


def test_consent_page_names_the_resource_server(client, user, web_app, mcp_uri):
    client.force_login(user)
    page = client.get(code_request(web_app).url(resource=mcp_uri))
    assert page.status_code == 200
    assert page.context["resource_server"].uri == mcp_uri
    assert b"Catalogue MCP server" in page.content
    plain = client.get(code_request(web_app).url())
    assert plain.context["resource_server"] is None
    assert b'id="resource-server"' not in plain.content
