"""Discovery advertises exactly what the server accepts (oauth_server/capabilities.py)."""

import pytest
from django.urls import reverse
from oauth2_provider.settings import oauth2_settings

from oauth_server import capabilities
from oauth_server.models import Application
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    exchange_code,
    json_of,
    query_of,
    token_request,
)

pytestmark = pytest.mark.django_db

NOT_OFFERED_GRANTS = [
    "password",
    "implicit",
    "openid",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
]
NOT_OFFERED_RESPONSE_TYPES = [
    "token",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
    "none",
]


@pytest.fixture
def discovery(client) -> dict:
    return client.get("/.well-known/openid-configuration").json()


@pytest.fixture
def code_request(client, user, web_app) -> CodeRequest:
    client.force_login(user)
    return CodeRequest(
        client_id=web_app.client_id, redirect_uri="https://client.example/callback"
    )


def test_registered_grant_values_are_dots():
    """The registered grant names are the values DOT's Application model stores."""
    assert capabilities.APPLICATION_GRANT_TYPES == {
        "authorization-code": Application.GRANT_AUTHORIZATION_CODE,
        "client-credentials": Application.GRANT_CLIENT_CREDENTIALS,
        "device-code": Application.GRANT_DEVICE_CODE,
    }
    assert set(capabilities.TOKEN_GRANT_OF_REGISTERED.values()) <= set(
        capabilities.GRANT_TYPES
    )


def test_dot_settings_come_from_capabilities():
    assert (
        list(capabilities.GRANT_TYPES) == oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED
    )
    assert (
        list(capabilities.RESPONSE_TYPES)
        == oauth2_settings.OIDC_RESPONSE_TYPES_SUPPORTED
    )


def test_discovery_lists_the_capabilities(discovery):
    assert discovery["grant_types_supported"] == list(capabilities.GRANT_TYPES)
    assert discovery["response_types_supported"] == list(capabilities.RESPONSE_TYPES)
    assert discovery["code_challenge_methods_supported"] == list(
        capabilities.PKCE_METHODS
    )
    assert discovery["prompt_values_supported"] == list(capabilities.PROMPT_VALUES)
    assert discovery["token_endpoint_auth_methods_supported"] == [
        *capabilities.CLIENT_AUTH_METHODS,
        capabilities.PUBLIC_CLIENT_AUTH_METHOD,
    ]


@pytest.mark.parametrize("grant_type", capabilities.GRANT_TYPES)
def test_each_advertised_grant_type_is_handled(client, discovery, web_app, grant_type):
    """The token endpoint knows every advertised grant (a bad request, not unknown)."""
    assert grant_type in discovery["grant_types_supported"]
    response = token_request(
        client,
        {"grant_type": grant_type},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert response.status_code in (400, 401)
    assert json_of(response)["error"] != "unsupported_grant_type"


@pytest.mark.parametrize("grant_type", NOT_OFFERED_GRANTS)
def test_unadvertised_grant_types_are_refused(client, discovery, web_app, grant_type):
    assert grant_type not in discovery["grant_types_supported"]
    response = token_request(
        client,
        {"grant_type": grant_type, "code": "x", "username": "a", "password": "b"},
        auth=(web_app.client_id, web_app.cleartext_secret),
    )
    assert response.status_code == 400
    assert json_of(response)["error"] == "unsupported_grant_type"


def test_client_credentials_and_refresh_work(client, machine_app, user, web_app):
    """Advertised grants work end to end (the code grant: test_authorization_code)."""
    auth = (machine_app.client_id, machine_app.cleartext_secret)
    response = token_request(client, {"grant_type": "client_credentials"}, auth=auth)
    assert response.status_code == 200, response.content
    client.force_login(user)
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri="https://client.example/callback"
    )
    code = authorize(client, request)["code"]
    web_auth = (web_app.client_id, web_app.cleartext_secret)
    tokens = json_of(exchange_code(client, request, code, auth=web_auth))
    response = token_request(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=web_auth,
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("response_type", capabilities.RESPONSE_TYPES)
def test_each_advertised_response_type_is_accepted(client, code_request, response_type):
    response = client.get(code_request.url(response_type=response_type))
    assert response.status_code == 200  # the consent page


@pytest.mark.parametrize("response_type", NOT_OFFERED_RESPONSE_TYPES)
def test_unadvertised_response_types_are_refused(
    client, discovery, code_request, response_type
):
    assert response_type not in discovery["response_types_supported"]
    response = client.get(code_request.url(response_type=response_type))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "unsupported_response_type"


def test_plain_pkce_is_refused(client, discovery, code_request):
    assert "plain" not in discovery["code_challenge_methods_supported"]
    response = client.get(code_request.url(code_challenge_method="plain"))
    assert query_of(response["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize("method", capabilities.PKCE_METHODS)
def test_advertised_pkce_method_works(client, web_app, code_request, method):
    code_request.method = method
    code = authorize(client, code_request)["code"]
    response = exchange_code(
        client, code_request, code, auth=(web_app.client_id, web_app.cleartext_secret)
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("prompt", capabilities.PROMPT_VALUES)
def test_advertised_prompt_values_are_accepted(client, code_request, prompt):
    response = client.get(code_request.url(prompt=prompt))
    if response.status_code == 302:
        error = query_of(response["Location"]).get("error")
        assert error in (None, "consent_required"), error  # none: no consent yet
    else:
        assert response.status_code == 200


def test_unadvertised_prompt_value_is_refused(client, discovery, code_request):
    assert "select_account" not in discovery["prompt_values_supported"]
    response = client.get(code_request.url(prompt="select_account"))
    assert query_of(response["Location"])["error"] == "account_selection_required"


@pytest.mark.parametrize("method", capabilities.CLIENT_AUTH_METHODS)
def test_each_client_auth_method_works(client, machine_app, method):
    data = {"grant_type": "client_credentials"}
    auth = None
    if method == "client_secret_basic":
        auth = (machine_app.client_id, machine_app.cleartext_secret)
    else:
        data.update(
            client_id=machine_app.client_id,
            client_secret=machine_app.cleartext_secret,
        )
    response = token_request(client, data, auth=auth)
    assert response.status_code == 200, response.content


def test_public_client_auth_method_none_works(client, user, public_app):
    client.force_login(user)
    request = CodeRequest(
        client_id=public_app.client_id,
        redirect_uri="http://127.0.0.1:9999/callback",
        scope="openid books:read",
    )
    code = authorize(client, request)["code"]
    response = exchange_code(client, request, code)
    assert response.status_code == 200, response.content


def test_discovery_is_served_under_both_names(client):
    oidc = client.get(reverse("oauth2_provider:oidc-connect-discovery-info")).json()
    rfc8414 = client.get(reverse("oauth2_provider:oauth-server-metadata")).json()
    assert oidc["grant_types_supported"] == rfc8414["grant_types_supported"]
