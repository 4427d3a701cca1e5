"""Dynamic registration refuses what the registration policy does not allow.

Runs under both profiles: in production http loopback redirect URIs are refused
too (OAUTH_ALLOW_HTTP_LOOPBACK_REDIRECTS is off).
"""

import json

import pytest

from oauth_server.models import Application, AuditEvent, RegistrationPolicy
from tests.plugin_env import PROFILE

pytestmark = pytest.mark.django_db

REGISTER = "/o/register/"
GOOD = {
    "client_name": "Agent",
    "redirect_uris": ["https://agent.example/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "books:read",
}


def register(client, metadata: object, **extra):
    body = metadata if isinstance(metadata, str) else json.dumps(metadata)
    return client.post(REGISTER, body, content_type="application/json", **extra)


def set_policy(**values) -> None:
    RegistrationPolicy.objects.update_or_create(pk=1, defaults=values)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"token_endpoint_auth_method": "client_secret_basic"},
            "invalid_client_metadata",
        ),
        (
            {"token_endpoint_auth_method": "client_secret_post"},
            "invalid_client_metadata",
        ),
        ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({"grant_types": ["password"]}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"grant_types": [{"a": 1}]}, "invalid_client_metadata"),
        ({"grant_types": "authorization_code"}, "invalid_client_metadata"),
        (
            {"grant_types": ["authorization_code", "password"]},
            "invalid_client_metadata",
        ),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"scope": "books:read email"}, "invalid_client_metadata"),
        ({"scope": "introspection"}, "invalid_client_metadata"),
        ({"scope": "admin:everything"}, "invalid_client_metadata"),
        ({"redirect_uris": ["http://agent.example/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://agent.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        (
            {"redirect_uris": ["https://agent.example/cb https://evil.example/cb"]},
            "invalid_redirect_uri",
        ),
        ({"redirect_uris": [["https://agent.example/cb"]]}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://agent.example/callback"}, "invalid_redirect_uri"),
        ({"client_name": 42}, "invalid_client_metadata"),
        ({"client_name": "a\x00b"}, "invalid_client_metadata"),
        ({"client_name": "Bank\u202e"}, "invalid_client_metadata"),
        ({"scope": "books:read\nopenid"}, "invalid_client_metadata"),
    ],
)
def test_refused_metadata(client, change, error):
    """Each refusal is RFC 7591 §3.2.2 JSON, and registers nothing."""
    metadata = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    response = register(client, metadata)

    assert response.status_code == 400, response.content
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert not Application.objects.exists()
    assert not AuditEvent.objects.filter(event="application.created").exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"', "{"])
def test_malformed_body_is_a_json_error(client, body):
    response = register(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_oversized_body_is_a_json_error(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = register(client, {**GOOD, "client_name": "x" * 200})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_loopback_http_follows_the_profile(client):
    """RFC 8252 §7.3 loopback redirects: in development only."""
    response = register(client, {**GOOD, "redirect_uris": ["http://127.0.0.1/cb"]})
    if PROFILE == "production":
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_redirect_uri"
    else:
        assert response.status_code == 201


def test_omitted_auth_method_registers_a_public_client(client):
    """RFC 7591 §2's default (client_secret_basic) is replaced by the only method
    the public-only policy offers, and the response says so."""
    metadata = {k: v for k, v in GOOD.items() if k != "token_endpoint_auth_method"}
    response = register(client, metadata)

    assert response.status_code == 201
    assert response.json()["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in response.json()


def test_closed_policy_refuses_everyone(client):
    set_policy(dcr_open=False)
    response = register(client, GOOD)

    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    assert not Application.objects.exists()


def test_confidential_clients_when_the_policy_allows_them(client):
    set_policy(public_clients_only=False)
    response = register(
        client, {**GOOD, "token_endpoint_auth_method": "client_secret_basic"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["client_secret"]
    app = Application.objects.get(client_id=body["client_id"])
    assert app.client_type == "confidential"
    assert app.client_secret != body["client_secret"]  # stored hashed


def test_registrations_are_rate_limited_per_address(client):
    """Past the policy's hourly limit an address gets 429; another does not."""
    set_policy(registrations_per_hour=2)
    for _ in range(2):
        assert register(client, GOOD, REMOTE_ADDR="198.51.100.1").status_code == 201

    refused = register(client, GOOD, REMOTE_ADDR="198.51.100.1")

    assert refused.status_code == 429
    assert refused.json()["error"] == "temporarily_unavailable"
    assert refused["Retry-After"]
    assert Application.objects.count() == 2
    assert register(client, GOOD, REMOTE_ADDR="198.51.100.2").status_code == 201


def test_registration_scope_is_not_an_api_scope(client, api_client_for):
    """The registration access token opens only its registration, never the API."""
    body = register(client, GOOD).json()
    api = api_client_for(body["registration_access_token"])
    assert api.get("/api/v1/books/").status_code in (401, 403)
