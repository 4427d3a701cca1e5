"""Bad input never gets a 5xx, nor an HTML error from an OAuth or API endpoint.

OAuth endpoints answer RFC 6749 §5.2 JSON, the API DRF's JSON errors; browser pages
(authorize, logout, device) answer an error page or a redirect. `bad_inputs.py`
holds the inputs and endpoints of the matrix; the tests after it pin down the
exact answers where they matter.
"""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group

from resources import groups
from tests.conftest import basic_auth
from tests.factories import (
    AccessTokenFactory,
    ApplicationFactory,
    BookFactory,
    ReviewFactory,
    UserFactory,
    isbn13,
)
from tests.oauth_server.flows import CodeRequest
from tests.security.bad_inputs import (
    BAD_HEADERS,
    ENDPOINTS,
    FORM,
    JSON,
    Endpoint,
    bad_bodies,
    bad_queries,
    deep_json,
    deep_xml,
)


def matrix(names_of) -> list:
    """(endpoint, input name) pairs, one pytest parameter each."""
    return [
        pytest.param(endpoint, name, id=f"{endpoint.name}: {name}")
        for endpoint in ENDPOINTS
        for name in names_of(endpoint)
    ]


MATRIX_QUERIES = matrix(bad_queries)
MATRIX_BODIES = matrix(lambda endpoint: bad_bodies(endpoint, {}))
MATRIX_HEADERS = matrix(lambda endpoint: BAD_HEADERS)


@pytest.fixture(scope="module")
def world_data(django_db_setup, django_db_blocker):
    """Users, applications, a token and catalogue rows, made once for the module
    (each test still runs in its own rolled-back transaction)."""
    with django_db_blocker.unblock():
        editor = UserFactory(username="bad-input-editor")
        editor.groups.add(Group.objects.get(name=groups.EDITORS))
        web_app = ApplicationFactory(client_id="bad-input-web")
        introspector = ApplicationFactory(
            client_id="bad-input-introspector",
            authorization_grant_type="client-credentials",
            redirect_uris="",
            post_logout_redirect_uris="",
            allowed_scopes="introspection",
        )
        device_app = ApplicationFactory(
            client_id="bad-input-device",
            client_type="public",
            authorization_grant_type="urn:ietf:params:oauth:grant-type:device_code",
            redirect_uris="",
            post_logout_redirect_uris="",
            allowed_scopes="books:read",
        )
        token = AccessTokenFactory(
            user=editor, application=web_app, scope="openid books:read books:write"
        )
        book = BookFactory(title="Bad input", isbn=isbn13(899))
        review = ReviewFactory(book=book, user=editor)
        author = book.author
    yield {
        "editor": editor,
        "ids": {"book": book.pk, "review": review.pk, "author": author.pk},
        "credentials": {
            "bearer": f"Bearer {token.cleartext}",
            "basic": basic_auth(web_app.client_id, web_app.cleartext_secret),
            "introspector": basic_auth(
                introspector.client_id, introspector.cleartext_secret
            ),
        },
        "author": author.pk,
    }
    with django_db_blocker.unblock():
        book.reviews.all().delete()
        book.delete()
        author.delete()
        for app in (web_app, introspector, device_app):
            app.delete()  # and their tokens
        editor.delete()


@pytest.fixture
def world(db, client, world_data):
    """`world(endpoint, method, ...)` calls an endpoint as `endpoint.auth` says;
    `world.payload(endpoint)` is a valid body for it."""
    book_fields = {"publication_date": "2000-01-01", "price": "1.00"}
    author = world_data["author"]
    payloads = {
        "book": {"title": "T", "author": author, "isbn": isbn13(900), **book_fields},
        "book_v2": {
            "title": "T",
            "author_id": author,
            "isbn": isbn13(901),
            "summary": "S",
            **book_fields,
        },
        "title": {"title": "T"},
        "review": {"rating": 5, "text": "T"},
        "author": {"name": "N", "biography": "B"},
        "author_book": {"title": "T2", "isbn": isbn13(902), **book_fields},
        "personal_token": {"name": "N", "scope": "books:read"},
        "registration": {
            "redirect_uris": ["https://agent.example/cb"],
            "token_endpoint_auth_method": "none",
        },
    }

    def call(endpoint: Endpoint, method: str, query="", body=b"", ctype=FORM, **extra):
        if endpoint.auth == "session":
            client.force_login(world_data["editor"])
        elif endpoint.auth in world_data["credentials"]:
            extra.setdefault(
                "HTTP_AUTHORIZATION", world_data["credentials"][endpoint.auth]
            )
        path = endpoint.path.format(**world_data["ids"])
        path += f"?{query}" if query else ""
        return client.generic(method, path, body, content_type=ctype, **extra)

    call.payload = lambda endpoint: payloads.get(endpoint.payload)
    return call


def assert_no_server_error(endpoint: Endpoint, response) -> None:
    """Below 500; an error from an OAuth or API endpoint is JSON, with its fields."""
    status, content_type = response.status_code, response.get("Content-Type", "")
    assert status < 500, response.content[:300]
    if endpoint.kind == "page" or status < 400:
        return
    assert content_type.startswith("application/json"), (content_type, status)
    if response.content:  # HEAD and 304 have none
        body = json.loads(response.content)
        if endpoint.kind == "oauth":
            assert body["error"]
            assert isinstance(body.get("error_description", ""), str)
        else:
            assert isinstance(body, dict | list)
            assert body


@pytest.mark.parametrize(("endpoint", "name"), MATRIX_QUERIES)
def test_bad_query_strings_get_no_server_error(world, endpoint, name):
    """Hostile query strings (RFC 6749 §5.2, RFC 9110 §15.5.1: a 4xx, never 5xx)."""
    query = bad_queries(endpoint)[name]

    response = world(endpoint, endpoint.method, query=query)

    assert_no_server_error(endpoint, response)


@pytest.mark.parametrize(("endpoint", "name"), MATRIX_BODIES)
def test_bad_bodies_get_no_server_error(world, endpoint, name):
    """Hostile request bodies (RFC 6749 §5.2, RFC 9110 §15.5.1)."""
    body, content_type = bad_bodies(endpoint, world.payload(endpoint))[name]

    response = world(endpoint, endpoint.write, body=body, ctype=content_type)

    assert_no_server_error(endpoint, response)


@pytest.mark.parametrize(("endpoint", "name"), MATRIX_HEADERS)
def test_bad_headers_get_no_server_error(world, endpoint, name):
    """Hostile headers: Accept, conditionals, Content-Length, credentials
    (RFC 9110 §12, §13, §8.6; RFC 6750 §3.1; RFC 7617)."""
    headers = BAD_HEADERS[name]
    body = b"a=b" if endpoint.method == "POST" else b""

    response = world(endpoint, endpoint.method, body=body, **headers)

    assert_no_server_error(endpoint, response)


# --- The exact answers ----------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["/o/token/", "/o/revoke/", "/o/introspect/"])
@pytest.mark.parametrize(
    "credentials",
    [b"abc\x00:secret", b"abc%00:secret", b"abc:se%00cret"],
    ids=["nul", "encoded nul", "nul in secret"],
)
def test_nul_in_basic_credentials_is_invalid_client(client, db, endpoint, credentials):
    """A NUL byte in decoded HTTP Basic credentials is a 401 invalid_client, not a
    PostgreSQL DataError (RFC 6749 §2.3.1, §5.2)."""
    header = "Basic " + base64.b64encode(credentials).decode()

    response = client.post(
        endpoint,
        "token=x&grant_type=client_credentials",
        FORM,
        HTTP_AUTHORIZATION=header,
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "HTTP Basic credentials must not contain NUL bytes.",
    }
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "filter_query",
    [
        ("year", "2147483648"),
        ("year", "-1"),
        ("min_price", "99999999999999999999999"),
        ("max_price", "-10000000"),
        ("min_rating", "1e51"),
    ],
    ids=lambda q: "=".join(q),
)
def test_out_of_range_filters_are_400_naming_the_field(
    api_client_for, db, filter_query
):
    """A number no column can hold is a DRF 400 on its parameter (RFC 9110 §15.5.1)."""
    name, value = filter_query
    token = AccessTokenFactory(user=None, scope="books:read")

    response = api_client_for(token).get("/api/v1/books/", {name: value})

    assert response.status_code == 400
    assert list(response.json()) == [name]


TEXT_FIELDS = [
    ("/api/v1/authors/{author}/", "name"),
    ("/api/v1/authors/{author}/", "biography"),
    ("/api/v1/books/{book}/", "title"),
    ("/api/v1/books/{book}/", "summary"),
    ("/api/v1/books/{book}/", "isbn"),
    ("/api/v2/books/{book}/", "title"),
    ("/api/v1/books/{book}/reviews/{review}/", "text"),
]


@pytest.mark.parametrize(("path", "field"), TEXT_FIELDS, ids=lambda v: v)
@pytest.mark.parametrize("character", ["\x00", "\x01", "\x08", "\x0b", "\x1f", "\x7f"])
def test_control_characters_are_refused_in_text_fields(
    client_for, db, path, field, character
):
    """Text that XML 1.0 cannot carry (§2.2) is refused where it enters: a 400
    naming the field, for every writable text field of the API."""
    editor = UserFactory(username="writer")
    editor.groups.add(Group.objects.get(name=groups.EDITORS))
    review = ReviewFactory(user=editor)
    ids = {"book": review.book.pk, "author": review.book.author.pk, "review": review.pk}

    response = client_for(editor).patch(
        path.format(**ids), {field: f"ab{character}cd"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_stored_control_characters_still_render_as_xml(client_for, db):
    """Text stored before the rule (or by other means) renders as well-formed XML,
    the characters replaced by U+FFFD (XML 1.0 §2.2)."""
    reader = UserFactory(username="xml-reader")
    reader.groups.add(Group.objects.get(name=groups.READERS))
    book = BookFactory(title="bad\x01title\x0b")
    ReviewFactory(book=book, text="x\x08y\x1fz")  # NUL: PostgreSQL refuses it
    client = client_for(reader, "books:read")

    for path in (f"/api/v1/books/{book.pk}/", f"/api/v1/books/{book.pk}/reviews/"):
        response = client.get(path, HTTP_ACCEPT="application/xml")

        assert response.status_code == 200
        from xml.etree import ElementTree

        ElementTree.fromstring(response.content)  # well-formed
        assert "\ufffd" in response.content.decode()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (deep_json(100_000), JSON),
        (deep_json(33), JSON),
        (deep_xml(100_000), "application/xml"),
    ],
    ids=["json 100,000", "json 33", "xml 100,000"],
)
def test_deeply_nested_bodies_are_400(client_for, db, body, content_type):
    """Bodies nested past 32 levels are a DRF ParseError, not a RecursionError."""
    editor = UserFactory(username="nester")
    editor.groups.add(Group.objects.get(name=groups.EDITORS))

    response = client_for(editor).post(
        "/api/v1/authors/", body, content_type=content_type
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request body is nested more than 32 levels deep."
    }


@pytest.mark.parametrize(
    "claims",
    ["not-json", "[]", '{"userinfo": 5}', '{"id_token": {"email": 1}}', "5", '"x"'],
)
def test_malformed_claims_parameter_is_invalid_request(client, user, web_app, claims):
    """OIDC Core §5.5: a malformed `claims` is invalid_request, sent back to the
    client with its state (RFC 6749 §4.1.2.1)."""
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri="https://client.example/callback"
    )
    client.force_login(user)

    response = client.get(request.url(scope="openid", claims=claims))

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.netloc == "client.example"
    assert params["error"] == "invalid_request"
    assert params["state"] == request.state


@pytest.mark.parametrize(
    ("body", "content_type", "oauth_error"),
    [
        (b"--x\r\nbroken", "multipart/form-data; boundary=x", "unsupported_grant_type"),
        (b"abc", "multipart/form-data", "invalid_request"),
        (b"&".join(b"f%d=1" % i for i in range(10_000)), FORM, "invalid_request"),
        (b"a=caf%E9", FORM + "; charset=iso-8859-1", "invalid_request"),
    ],
    ids=["broken multipart", "no boundary", "10,000 fields", "latin-1 form"],
)
def test_unparseable_bodies_get_json_errors(
    client, client_for, db, body, content_type, oauth_error
):
    """Bodies Django will not parse are DRF 400s on the API and RFC 6749 §5.2
    invalid_request on OAuth endpoints, not Django's HTML 400 page."""
    editor = UserFactory(username="poster")
    editor.groups.add(Group.objects.get(name=groups.EDITORS))

    api = client_for(editor).post("/api/v1/authors/", body, content_type=content_type)
    oauth = client.post("/o/token/", body, content_type=content_type)

    assert api.status_code == 400
    assert api["Content-Type"] == "application/json"
    assert api.json()  # DRF's shape: {"detail": ...} or field errors
    assert oauth.status_code == 400
    assert oauth["Content-Type"] == "application/json"
    assert oauth.json()["error"] == oauth_error


@pytest.mark.parametrize(
    "content_type",
    [
        FORM + "; charset=UTF-8",
        FORM + ";charset=utf-8",
        FORM + '; charset="UTF-8"',
    ],
)
def test_client_endpoints_accept_forms_that_name_utf8(
    client, machine_app, introspector, device_app, content_type
):
    """Standard clients send `charset=UTF-8` with their forms (RFC 6749 §B):
    every endpoint a client posts to accepts it."""
    machine = basic_auth(machine_app.client_id, machine_app.cleartext_secret)
    token = client.generic(
        "POST",
        "/o/token/",
        "grant_type=client_credentials",
        content_type=content_type,
        HTTP_AUTHORIZATION=machine,
    )
    access_token = token.json()["access_token"]
    introspected = client.generic(
        "POST",
        "/o/introspect/",
        f"token={access_token}",
        content_type=content_type,
        HTTP_AUTHORIZATION=basic_auth(
            introspector.client_id, introspector.cleartext_secret
        ),
    )
    revoked = client.generic(
        "POST",
        "/o/revoke/",
        f"token={access_token}",
        content_type=content_type,
        HTTP_AUTHORIZATION=machine,
    )
    device = client.generic(
        "POST",
        "/o/device-authorization/",
        f"client_id={device_app.client_id}",
        content_type=content_type,
    )

    assert token.status_code == 200, token.content
    assert (introspected.status_code, introspected.json()["active"]) == (200, True)
    assert revoked.status_code == 200, revoked.content
    assert device.status_code == 200, device.content
    assert device.json()["user_code"]
