"""Who may call what: scopes, RFC 6750 challenges, model permissions, sessions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AccessTokenFactory,
    AuthorFactory,
    BookFactory,
    ReviewFactory,
    UserFactory,
    isbn13,
)

V1 = {"version": "v1"}


@pytest.fixture
def catalogue(editor):
    """An author, two books, and a review of the first book by the editor."""
    author = AuthorFactory()
    book = BookFactory(author=author)
    other_book = BookFactory(author=author)
    review = ReviewFactory(book=book, user=editor)
    return {"author": author, "book": book, "other_book": other_book, "review": review}


def _book_payload(author_id: int | None = None) -> dict:
    payload = {
        "title": "The Matrix Book",
        "publication_date": "2010-01-01",
        "price": "10.00",
        "isbn": isbn13(999_999),
    }
    if author_id is not None:
        payload["author"] = author_id
    return payload


# (name, method, url(catalogue), payload(catalogue), success status, needs write)
ENDPOINTS = [
    ("book-list", "get", lambda c: reverse("api:book-list", kwargs=V1), None, 200),
    (
        "book-create",
        "post",
        lambda c: reverse("api:book-list", kwargs=V1),
        lambda c: _book_payload(c["author"].pk),
        201,
    ),
    (
        "book-detail",
        "get",
        lambda c: reverse("api:book-detail", kwargs={**V1, "pk": c["book"].pk}),
        None,
        200,
    ),
    (
        "book-update",
        "patch",
        lambda c: reverse("api:book-detail", kwargs={**V1, "pk": c["book"].pk}),
        lambda c: {"price": "9.99"},
        200,
    ),
    (
        "book-delete",
        "delete",
        lambda c: reverse("api:book-detail", kwargs={**V1, "pk": c["other_book"].pk}),
        None,
        204,
    ),
    (
        "review-list",
        "get",
        lambda c: reverse(
            "api:book-review-list", kwargs={**V1, "book_pk": c["book"].pk}
        ),
        None,
        200,
    ),
    (
        "review-create",
        "post",
        lambda c: reverse(
            "api:book-review-list", kwargs={**V1, "book_pk": c["other_book"].pk}
        ),
        lambda c: {"rating": 5, "text": "Great."},
        201,
    ),
    (
        "review-update",
        "patch",
        lambda c: reverse(
            "api:book-review-detail",
            kwargs={**V1, "book_pk": c["book"].pk, "pk": c["review"].pk},
        ),
        lambda c: {"rating": 2},
        200,
    ),
    (
        "review-delete",
        "delete",
        lambda c: reverse(
            "api:book-review-detail",
            kwargs={**V1, "book_pk": c["book"].pk, "pk": c["review"].pk},
        ),
        None,
        204,
    ),
    ("author-list", "get", lambda c: reverse("api:author-list", kwargs=V1), None, 200),
    (
        "author-create",
        "post",
        lambda c: reverse("api:author-list", kwargs=V1),
        lambda c: {"name": "New Author"},
        201,
    ),
    (
        "author-update",
        "patch",
        lambda c: reverse("api:author-detail", kwargs={**V1, "pk": c["author"].pk}),
        lambda c: {"biography": "Changed."},
        200,
    ),
    (
        "author-stats",
        "get",
        lambda c: reverse("api:author-stats", kwargs=V1),
        None,
        200,
    ),
    (
        "author-books",
        "get",
        lambda c: reverse(
            "api:author-book-list", kwargs={**V1, "author_pk": c["author"].pk}
        ),
        None,
        200,
    ),
    (
        "author-books-create",
        "post",
        lambda c: reverse(
            "api:author-book-list", kwargs={**V1, "author_pk": c["author"].pk}
        ),
        lambda c: _book_payload(),
        201,
    ),
    ("stats", "get", lambda c: reverse("api:stats-list", kwargs=V1), None, 200),
]
ENDPOINT_IDS = [e[0] for e in ENDPOINTS]


def _call(client, endpoint, catalogue):
    _, method, url, payload, _ = endpoint
    data = payload(catalogue) if payload else None
    return getattr(client, method)(url(catalogue), data, format="json")


@pytest.mark.parametrize("scope", ["books:read", "books:write", "openid profile"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_scope_matrix(client_for, editor, catalogue, endpoint, scope):
    """Reads need books:read, writes books:write; otherwise 403 insufficient_scope."""
    needed = "books:read" if endpoint[1] == "get" else "books:write"
    response = _call(client_for(editor, scope), endpoint, catalogue)

    if needed in scope.split():
        assert response.status_code == endpoint[4], response.content
    else:
        assert response.status_code == 403
        assert response.json() == {
            "detail": f"This request needs the scope(s): {needed}."
        }
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        assert 'error="insufficient_scope"' in challenge
        assert f'scope="{needed}"' in challenge
        assert "resource_metadata=" in challenge


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_missing_token_is_401_with_bearer_challenge(api_client, catalogue, endpoint):
    """No credentials: 401, error="invalid_token", and the metadata document."""
    response = _call(api_client, endpoint, catalogue)

    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api",error="invalid_token",'
        'error_description="An access token is required.",resource_metadata='
        '"http://testserver/.well-known/oauth-protected-resource"'
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS[:3], ids=ENDPOINT_IDS[:3])
def test_invalid_token_is_401_invalid_token(api_client_for, catalogue, endpoint):
    """An unknown token: 401 with error="invalid_token"."""
    response = _call(api_client_for("not-a-token"), endpoint, catalogue)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_expired_token_is_rejected(api_client_for, editor):
    """An expired token is an invalid token."""
    token = AccessTokenFactory(
        user=editor, scope="books:read", expires=timezone.now() - timedelta(seconds=1)
    )
    response = api_client_for(token).get(reverse("api:book-list", kwargs=V1))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_protected_resource_metadata_is_served(db, api_client):
    """RFC 9728 metadata names the issuer and the scopes."""
    response = api_client.get("/.well-known/oauth-protected-resource")

    assert response.status_code == 200
    body = response.json()
    assert body["authorization_servers"] == ["http://testserver"]
    assert {"books:read", "books:write"} <= set(body["scopes_supported"])


def test_user_without_model_permission_cannot_read(client_for, catalogue):
    """A token with books:read acting for a user without can_read_book gets 403."""
    nobody = UserFactory(username="nobody")
    response = client_for(nobody, "books:read").get(reverse("api:book-list", kwargs=V1))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your account lacks the permission for this action."
    }
    assert "WWW-Authenticate" not in response


def test_reader_can_review_but_not_edit_books(client_for, reader, catalogue):
    """can_read_book allows reviews in one's own name, not book changes."""
    client = client_for(reader)
    book_url = reverse("api:book-detail", kwargs={**V1, "pk": catalogue["book"].pk})
    reviews_url = reverse(
        "api:book-review-list", kwargs={**V1, "book_pk": catalogue["book"].pk}
    )

    assert client.patch(book_url, {"price": "1.00"}, format="json").status_code == 403
    response = client.post(reviews_url, {"rating": 3, "text": "Fine."}, format="json")
    assert response.status_code == 201
    assert response.json()["user"] == "reader"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_only_the_author_of_a_review_can_change_it(
    client_for, reader, catalogue, method
):
    """Another user's review is read-only, even with books:write."""
    url = reverse(
        "api:book-review-detail",
        kwargs={**V1, "book_pk": catalogue["book"].pk, "pk": catalogue["review"].pk},
    )
    response = getattr(client_for(reader), method)(url, {"rating": 1}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "You can only change your own reviews."}
    catalogue["review"].refresh_from_db()
    assert catalogue["review"].rating == 4


def test_client_credentials_token_may_read(api_client_for, machine_token, catalogue):
    """A token without a user reads the catalogue."""
    response = api_client_for(machine_token).get(reverse("api:book-list", kwargs=V1))

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_client_credentials_token_may_not_write(machine_app, api_client_for, catalogue):
    """A token without a user cannot write, even with books:write."""
    token = AccessTokenFactory(user=None, application=machine_app, scope="books:write")
    url = reverse(
        "api:book-review-list", kwargs={**V1, "book_pk": catalogue["book"].pk}
    )
    response = api_client_for(token).post(url, {"rating": 5}, format="json")

    assert response.status_code == 403


def test_session_user_uses_the_browsable_api(api_client, editor, catalogue):
    """A signed-in user with can_read_book gets the browsable API as HTML."""
    api_client.force_login(editor)
    response = api_client.get(
        reverse("api:book-list", kwargs=V1), HTTP_ACCEPT="text/html"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert catalogue["book"].title in response.content.decode()


def test_session_user_without_permission_is_refused(api_client, catalogue):
    """The session path still checks model permissions."""
    api_client.force_login(UserFactory(username="visitor"))
    response = api_client.get(
        reverse("api:book-list", kwargs=V1), HTTP_ACCEPT="text/html"
    )

    assert response.status_code == 403


@pytest.mark.parametrize("accept", ["application/json", "application/xml", "*/*"])
def test_session_alone_does_not_open_the_json_api(
    api_client, editor, catalogue, accept
):
    """JSON and XML calls need a bearer token; the session is for the HTML view."""
    api_client.force_login(editor)

    response = api_client.get(reverse("api:book-list", kwargs=V1), HTTP_ACCEPT=accept)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "name",
    ["book-list", "author-list", "author-stats", "stats-list", "book-review-list"],
)
def test_browsable_api_renders_every_list(api_client, editor, catalogue, name):
    """Each list renders as HTML (with its forms) for a signed-in editor."""
    kwargs = (
        {**V1, "book_pk": catalogue["book"].pk} if name == "book-review-list" else V1
    )
    api_client.force_login(editor)

    response = api_client.get(
        reverse(f"api:{name}", kwargs=kwargs), HTTP_ACCEPT="text/html"
    )

    assert response.status_code == 200
    assert b"<form" in response.content or name.endswith("stats-list")
