"""Hostile and malformed input gets a standard error, never a 500."""

import base64
import html
import re

import pytest
from django.urls import reverse

from tests.conftest import basic_auth
from tests.oauth_server.flows import CodeRequest

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
@pytest.mark.parametrize(
    ("endpoint", "method", "allowed"),
    [
        ("token", "get", "POST, OPTIONS"),
        ("revoke-token", "get", "POST, OPTIONS"),
        ("device-authorization", "get", "POST, OPTIONS"),
        ("jwks-info", "post", "GET, HEAD, OPTIONS"),
        ("oidc-connect-discovery-info", "delete", "GET, HEAD, OPTIONS"),
        ("oauth-server-metadata", "put", "GET, HEAD, OPTIONS"),
        ("oauth-resource-metadata", "post", "GET, HEAD, OPTIONS"),
    ],
)
def test_wrong_method_is_a_json_405(client, endpoint, method, allowed):
    """A method the endpoint does not take is 405 with Allow, in JSON."""
    response = getattr(client, method)(reverse(f"oauth2_provider:{endpoint}"))

    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"{method.upper()} is not allowed here; use {allowed}.",
    }


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


@pytest.mark.parametrize(
    ("raw", "description"),
    [
        (b"abc", "HTTP Basic credentials must be client_id:client_secret."),
        (b"\xff\xfe:x", "HTTP Basic credentials must be base64 of UTF-8."),
        (b"a\x00b:x", "HTTP Basic credentials must not contain NUL bytes."),
        (b"a%00b:x", "HTTP Basic credentials must not contain NUL bytes."),
    ],
    ids=["no colon", "not utf-8", "nul", "encoded nul"],
)
def test_malformed_basic_credentials_say_what_is_wrong(client, db, raw, description):
    """RFC 6749 §2.3.1 credentials that do not decode: invalid_client, explained."""
    header = "Basic " + base64.b64encode(raw).decode()

    response = client.post(
        reverse("oauth2_provider:token"),
        b"grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=header,
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": description,
    }


def test_not_base64_basic_credentials(client, db):
    response = client.post(
        reverse("oauth2_provider:revoke-token"),
        b"token=x",
        content_type=FORM,
        HTTP_AUTHORIZATION="Basic %%%",
    )

    assert response.status_code == 401
    assert response.json()["error_description"] == (
        "HTTP Basic credentials must be base64 of UTF-8."
    )


@pytest.mark.parametrize("endpoint", ["token", "user-info", "introspect"])
def test_malformed_percent_escape_in_query_is_invalid_request(client, db, endpoint):
    """oauthlib cannot parse `%zz`; the endpoint says so in JSON, not with a 500."""
    response = client.post(
        f"{reverse(f'oauth2_provider:{endpoint}')}?a=%zz", b"", content_type=FORM
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The query string has a malformed %-escape (RFC 3986 §2.1).",
    }


def test_content_length_not_a_number_means_no_body(client, db):
    """Django's body parsing would raise ValueError; the body counts as empty."""
    response = client.post(
        reverse("oauth2_provider:token"),
        b"grant_type=client_credentials",
        content_type=FORM,
        CONTENT_LENGTH="abc",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_userinfo_errors_are_labelled_json(client, db):
    """DOT leaves userinfo's JSON errors labelled text/html."""
    response = client.get(
        reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION="Bearer unknown"
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_token"


def test_token_request_with_query_is_labelled_json(client, db):
    """oauthlib's "URL query parameters are not allowed" comes back as JSON."""
    response = client.post(
        f"{reverse('oauth2_provider:token')}?grant_type=client_credentials",
        b"",
        content_type=FORM,
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("claims", [None, '{"userinfo": {"email": null}, "x": 1}'])
def test_consent_form_round_trip_with_claims(client, user, web_app, claims):
    """The consent page posts the claims back (DOT writes "null" for none); both a
    claims request (OIDC Core §5.5) and none end in a code."""
    client.force_login(user)
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri="https://client.example/callback"
    )
    page = client.get(request.url(claims=claims))
    hidden = dict(
        re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.content.decode())
    )

    response = client.post(
        reverse("oauth2_provider:authorize"),
        {**{k: html.unescape(v) for k, v in hidden.items()}, "allow": "Authorize"},
    )

    if claims is None:
        assert hidden["claims"] == "null"
    assert response.status_code == 302
    assert "code=" in response["Location"]


def test_consent_form_for_an_unknown_client_is_an_error_page(client, user, db):
    """A forged consent POST naming no registered client: 400 page, no redirect."""
    client.force_login(user)

    response = client.post(
        reverse("oauth2_provider:authorize"),
        {
            "client_id": "ghost",
            "redirect_uri": "https://client.example/callback",
            "response_type": "code",
            "scope": "books:read",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "allow": "Authorize",
        },
    )

    assert response.status_code == 400
    assert not response.has_header("Location")


@pytest.mark.parametrize("client_id", ["ghost", "a\x00b"], ids=["unknown", "nul"])
def test_logout_naming_an_unknown_client_is_an_error_page(client, user, client_id):
    """RP-initiated logout: DOT's objects.get() raised DoesNotExist (a 500)."""
    client.force_login(user)

    response = client.get(
        reverse("oauth2_provider:rp-initiated-logout"), {"client_id": client_id}
    )

    assert response.status_code == 400
    assert not response.has_header("Location")
