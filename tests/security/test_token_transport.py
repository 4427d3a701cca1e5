"""Bearer tokens travel in the Authorization header only.

RFC 6750 §2.3 and §5.3, RFC 9700 §4.3.2: a token in a URL ends up in access logs,
browser history and Referer headers; one in a form body is as easy to leak. Both are
refused even when the token is valid. DOT's COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT
gate covers only `verify_request` (the resource side) and only the query string.
"""

import pytest
from django.urls import reverse

from resources.models import Book
from tests.factories import AccessTokenFactory
from tests.oauth_server.flows import form_post, sign_in

BOOKS = "/api/v1/books/"


@pytest.fixture
def openid_token(client, user, web_app) -> str:
    return sign_in(client, user, web_app)["access_token"]


def assert_invalid_request(response) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_request"')
    assert response["Cache-Control"] == "no-store"


def test_userinfo_refuses_a_token_in_the_query_string(client, openid_token):
    """A valid token in `?access_token=` gets 400 invalid_request, no claims."""
    response = client.get(
        reverse("oauth2_provider:user-info"), {"access_token": openid_token}
    )

    assert_invalid_request(response)
    assert "sub" not in response.json()


def test_userinfo_refuses_a_token_in_a_form_body(client, openid_token):
    """A valid token as a form-encoded `access_token` gets 400 invalid_request."""
    response = form_post(
        client, reverse("oauth2_provider:user-info"), {"access_token": openid_token}
    )

    assert_invalid_request(response)


def test_userinfo_refuses_a_second_copy_beside_the_header(client, openid_token):
    """RFC 6750 §2: one method per request; header plus query is invalid_request."""
    response = client.get(
        reverse("oauth2_provider:user-info"),
        {"access_token": openid_token},
        HTTP_AUTHORIZATION=f"Bearer {openid_token}",
    )

    assert_invalid_request(response)


def test_userinfo_accepts_the_header(client, openid_token):
    response = client.get(
        reverse("oauth2_provider:user-info"),
        HTTP_AUTHORIZATION=f"Bearer {openid_token}",
    )

    assert response.status_code == 200
    assert response.json()["sub"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer  "])
def test_userinfo_bare_bearer_is_a_json_401(client, db, header):
    """`Authorization: Bearer` without a token: 401 with an RFC 6750 §3 challenge
    and a JSON body labelled as JSON."""
    response = client.get(
        reverse("oauth2_provider:user-info"), HTTP_AUTHORIZATION=header
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_token"


def test_introspection_refuses_the_callers_token_in_the_body(
    client, introspector, access_token
):
    """A resource server presenting its own token (with `introspection`) must put
    it in the Authorization header; DOT would take it from the form body."""
    own = AccessTokenFactory(user=None, application=introspector, scope="introspection")
    url = reverse("oauth2_provider:introspect")

    in_body = form_post(
        client, url, {"access_token": own.cleartext, "token": access_token.cleartext}
    )
    in_header = form_post(
        client,
        url,
        {"token": access_token.cleartext},
        HTTP_AUTHORIZATION=f"Bearer {own.cleartext}",
    )

    assert in_body.status_code == 400
    assert in_body.json()["error"] == "invalid_request"
    assert "active" not in in_body.json()
    assert in_header.status_code == 200
    assert in_header.json()["active"] is True


def test_api_refuses_a_token_in_the_query_string(api_client, access_token, reader):
    """The resource API: a valid token in `?access_token=` is refused, 400."""
    response = api_client.get(BOOKS, {"access_token": access_token.cleartext})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Send the access token")
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api"')
    assert 'error="invalid_request"' in challenge


def test_api_refuses_a_token_in_a_form_body(api_client, token_for, editor):
    """A valid books:write token as a form field is refused; nothing is written."""
    token = token_for(editor, "books:read books:write")
    response = api_client.post(
        BOOKS,
        {"access_token": token.cleartext, "title": "Smuggled"},
        format="multipart",
    )
    urlencoded = form_post(api_client, BOOKS, {"access_token": token.cleartext})

    assert response.status_code == 400
    assert urlencoded.status_code == 400
    assert 'error="invalid_request"' in response["WWW-Authenticate"]
    assert not Book.objects.filter(title="Smuggled").exists()


def test_api_accepts_the_header(api_client_for, access_token, reader):
    access_token.user = reader
    access_token.save()

    assert api_client_for(access_token).get(BOOKS).status_code == 200
