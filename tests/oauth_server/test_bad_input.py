"""Hostile and malformed input gets a standard error, never a 500."""

import pytest
from django.urls import reverse

from tests.conftest import basic_auth

FORM = "application/x-www-form-urlencoded"
ENDPOINTS = ["token", "revoke-token", "introspect", "device-authorization"]

BODIES = {
    "empty": (b"", FORM),
    "json": (b'{"grant_type": "client_credentials"}', "application/json"),
    "no content type": (b"grant_type=client_credentials", ""),
    "not utf-8": (b"grant_type=\xff\xfe&token=\xc3\x28&client_id=\xff", FORM),
    "nul bytes": (b"grant_type=client_credentials&client_id=a%00b&token=x%00y", FORM),
    "duplicated params": (
        b"grant_type=a&grant_type=b&token=x&token=y&client_id=a&client_id=b",
        FORM,
    ),
    "huge value": (b"grant_type=client_credentials&client_id=" + b"a" * 200_000, FORM),
    "too many fields": (b"&".join(b"f%d=1" % i for i in range(500)), FORM),
    "oversized body": (b"token=" + b"a" * (2 * 1024 * 1024), FORM),
    "garbage": (b"\x00\x01\x02%%%==&&", FORM),
    "unknown grant": (b"grant_type=urn:x:y&client_id=x", FORM),
    "device grant no code": (
        b"grant_type=urn:ietf:params:oauth:grant-type:device_code",
        FORM,
    ),
    "refresh no token": (b"grant_type=refresh_token", FORM),
    "code no code": (b"grant_type=authorization_code&client_id=x", FORM),
}

AUTH_HEADERS = {
    "none": {},
    "garbage basic": {"HTTP_AUTHORIZATION": "Basic %%%not-base64"},
    "basic no colon": {"HTTP_AUTHORIZATION": "Basic YWJj"},
    "basic non-utf8": {"HTTP_AUTHORIZATION": "Basic //79"},
    "empty bearer": {"HTTP_AUTHORIZATION": "Bearer "},
    "unknown scheme": {"HTTP_AUTHORIZATION": "Digest x=y"},
    "huge": {"HTTP_AUTHORIZATION": "Basic " + "A" * 10_000},
}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body_name", list(BODIES))
def test_malformed_bodies_get_json_errors(client, endpoint, body_name):
    """Every malformed body is a 4xx with an RFC 6749 §5.2 JSON error."""
    body, content_type = BODIES[body_name]

    response = client.post(
        reverse(f"oauth2_provider:{endpoint}"), body, content_type=content_type
    )

    assert 400 <= response.status_code < 500, response.content[:300]
    if endpoint != "revoke-token" or response.content:
        assert "error" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("header_name", list(AUTH_HEADERS))
def test_malformed_client_authentication(client, endpoint, header_name):
    """Broken Authorization headers never crash the endpoint."""
    response = client.post(
        reverse(f"oauth2_provider:{endpoint}"),
        b"grant_type=client_credentials&token=x&client_id=x",
        content_type=FORM,
        **AUTH_HEADERS[header_name],
    )

    assert 400 <= response.status_code < 500, response.content[:300]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["token", "revoke-token", "device-authorization"])
def test_get_is_not_allowed_on_post_endpoints(client, endpoint):
    response = client.get(reverse(f"oauth2_provider:{endpoint}"), {"token": "x"})
    assert response.status_code == 405


@pytest.mark.parametrize(
    "query",
    [
        "client_id=%00&response_type=code",
        "client_id=" + "a" * 100_000,
        "client_id=a&client_id=b&response_type=code",
        "response_type=code&client_id=\u00e9&redirect_uri=%ff",
        "response_type=code&redirect_uri=https://client.example/callback",
        "scope=%00&state=" + "s" * 5000,
        "",
    ],
)
def test_authorize_with_garbage_query_shows_error_page(client, user, web_app, query):
    """The authorize endpoint answers junk with a 4xx page, never a redirect or 500."""
    client.force_login(user)

    response = client.get(f"{reverse('oauth2_provider:authorize')}?{query}")

    assert 400 <= response.status_code < 500, response.content[:300]
    assert not response.has_header("Location")


def test_authorize_post_with_tampered_form(client, user, web_app):
    """A consent POST with a foreign redirect_uri is refused, not redirected."""
    client.force_login(user)

    response = client.post(
        reverse("oauth2_provider:authorize"),
        {
            "client_id": web_app.client_id,
            "redirect_uri": "https://evil.example/",
            "response_type": "code",
            "scope": "books:read",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "allow": "Authorize",
        },
    )

    assert response.status_code in (400, 401)
    assert not response.has_header("Location") or "evil" not in response["Location"]


def test_token_with_basic_auth_for_unknown_client(client, db):
    response = client.post(
        reverse("oauth2_provider:token"),
        b"grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth("ghost", "secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_client_endpoints_need_no_csrf_token(endpoint):
    """Clients are not browsers: the endpoints answer without a CSRF token."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post(
        reverse(f"oauth2_provider:{endpoint}"),
        b"token=x&client_id=x",
        content_type=FORM,
    )

    assert response.status_code != 403
