"""Bad input gets a 400 in DRF's error format: never a 500, never a half-written row."""

import base64
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from resources import services
from resources.models import Book, Review
from tests.factories import AuthorFactory, BookFactory, isbn13

V1 = {"version": "v1"}


@pytest.fixture
def book():
    return BookFactory()


def _reviews(book):
    return reverse("api:book-review-list", kwargs={**V1, "book_pk": book.pk})


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"rating": ', "application/json"),
        ("[1, 2", "application/json"),
        ("<root><rating>5</rating>", "application/xml"),
    ],
)
def test_malformed_body_is_400(client_for, reader, book, body, content_type):
    """Bodies that do not parse are a 400 with a `detail`."""
    response = client_for(reader).post(_reviews(book), body, content_type=content_type)

    assert response.status_code == 400
    assert "parse error" in response.json()["detail"].lower()
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"rating": "five"}, {"rating": ["A valid integer is required."]}),
        ({"rating": [5]}, {"rating": ["A valid integer is required."]}),
        ({"rating": 5, "text": {"a": 1}}, {"text": ["Not a valid string."]}),
        ({"rating": 5, "stars": 5}, {"stars": ["Unknown or read-only field."]}),
        ({"rating": 5, "user": "mallory"}, {"user": ["Unknown or read-only field."]}),
        ({}, {"rating": ["This field is required."]}),
    ],
)
def test_wrong_types_and_unknown_fields_are_400(
    client_for, reader, book, payload, errors
):
    """Wrong types and unknown fields are named in the error."""
    response = client_for(reader).post(_reviews(book), payload, format="json")

    assert response.status_code == 400
    assert response.json() == errors


def test_json_array_body_is_400(client_for, reader, book):
    """A body that is not an object is refused."""
    response = client_for(reader).post(_reviews(book), [1, 2], format="json")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


@pytest.mark.parametrize("content_type", ["application/json", "application/xml"])
def test_huge_payload_is_400(client_for, reader, book, settings, content_type):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before parsing."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = (
        '{"rating": 5, "text": "%s"}'
        if content_type.endswith("json")
        else "<root><rating>5</rating><text>%s</text></root>"
    ) % ("x" * 5000)

    response = client_for(reader).post(_reviews(book), body, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is too large."}
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("name", "params", "errors"),
    [
        (
            "book-list",
            {"ordering": "nonexistent"},
            {
                "ordering": [
                    "Order by one of: created, id, price, publication_date, title."
                ]
            },
        ),
        ("book-list", {"cursor": "garbage"}, {"cursor": ["Invalid cursor."]}),
        # well-formed base64, but the position is not a date
        (
            "book-list",
            {"cursor": base64.b64encode(b"p=abc").decode()},
            {"cursor": ["Invalid cursor."]},
        ),
        (
            "book-list",
            {"ordering": "id", "cursor": base64.b64encode(b"p=abc").decode()},
            {"cursor": ["Invalid cursor."]},
        ),
        (
            "book-list",
            {"page_size": "-3"},
            {"page_size": ["Enter a positive whole number."]},
        ),
        ("book-list", {"min_price": "cheap"}, {"min_price": ["Enter a number."]}),
        (
            "book-list",
            {"published_after": "yesterday"},
            {"published_after": ["Enter a valid date."]},
        ),
        (
            "book-list",
            {"author": "x"},
            {
                "author": [
                    "Select a valid choice. That choice is not one of the available choices."
                ]
            },
        ),
        (
            "book-list",
            {"search": "a" * 201},
            {"search": ["Ensure this field has no more than 200 characters."]},
        ),
        (
            "book-list",
            {"search": "a\x00b"},
            {"search": ["Null characters are not allowed."]},
        ),
        # a position no column can hold: NUL in a title, a decimal too wide
        (
            "book-list",
            {"ordering": "title", "cursor": base64.b64encode(b"p=a\x00b").decode()},
            {"cursor": ["Invalid cursor."]},
        ),
        (
            "book-list",
            {"ordering": "price", "cursor": base64.b64encode(b"p=1e99999").decode()},
            {"cursor": ["Invalid cursor."]},
        ),
        (
            "book-list",
            {"year": "2147483648"},
            {"year": ["Ensure this value is less than or equal to 9999."]},
        ),
        (
            "book-list",
            {"year": "0"},
            {"year": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            "book-list",
            {"max_price": "1000000"},
            {"max_price": ["Ensure this value is less than or equal to 999999.99."]},
        ),
        ("author-list", {"page": "abc"}, {"page": ["Enter a page number."]}),
        ("author-list", {"page": "0"}, {"page": ["Enter a page number."]}),
        (
            "author-list",
            {"ordering": "password"},
            {"ordering": ["Order by one of: birth_date, id, name."]},
        ),
    ],
)
def test_bad_query_parameters_are_400(client_for, reader, book, name, params, errors):
    """Malformed paging, ordering and filter parameters are a 400, not a 404/500."""
    response = client_for(reader).get(reverse(f"api:{name}", kwargs=V1), params)

    assert response.status_code == 400
    assert response.json() == errors


def test_malformed_ids_are_404(client_for, reader):
    """Non-numeric ids do not match a route."""
    response = client_for(reader).get("/api/v1/books/abc/")

    assert response.status_code == 404


def test_failed_write_leaves_nothing_behind(client_for, editor, monkeypatch):
    """A write that fails after its first insert is rolled back entirely."""
    author = AuthorFactory()

    def explode(**kwargs):
        raise services.ValidationError("Something downstream refused.")

    real_create = services.book_create

    def create_then_fail(**kwargs):
        real_create(**kwargs)
        explode()

    monkeypatch.setattr(services, "book_create", create_then_fail)
    payload = {
        "title": "Half",
        "author": author.pk,
        "publication_date": "2000-01-01",
        "price": "1.00",
        "isbn": isbn13(5),
    }
    response = client_for(editor).post(
        reverse("api:book-list", kwargs=V1), payload, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Something downstream refused."]}
    assert not Book.objects.exists()


def test_review_rating_filter_is_bounded_by_its_column(client_for, reader, book):
    """An integer filter refuses what a smallint column cannot hold."""
    response = client_for(reader).get(_reviews(book), {"rating": "70000"})

    assert response.status_code == 400
    assert response.json() == {
        "rating": ["Ensure this value is less than or equal to 32767."]
    }


def test_malformed_percent_escape_in_query_is_400(client_for, reader):
    """A query string with `%zz` is a DRF 400, not Django's HTML page."""
    response = client_for(reader).get("/api/v1/books/?search=%zz")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request cannot be parsed: Invalid hex encoding in query string."
    }


def test_too_many_form_fields_is_400(client_for, reader, book):
    """A form body over DATA_UPLOAD_MAX_NUMBER_FIELDS is a DRF 400 in JSON."""
    body = "&".join(f"f{i}=1" for i in range(10_000))

    response = client_for(reader).post(
        _reviews(book), body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("The request cannot be parsed: ")


@pytest.mark.parametrize(
    "body",
    [b'{"rating": 5, "text": "\\ud800"}', b'{"\\udfff": 1}'],
    ids=["value", "key"],
)
def test_lone_surrogate_in_json_is_400(client_for, reader, book, body):
    """JSON escapes of lone surrogates are not text: refused before any field."""
    response = client_for(reader).post(
        _reviews(book), body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "lone surrogate" in response.json()["detail"]
    assert not Review.objects.exists()


def test_unknown_keys_render_as_well_formed_xml(client_for, reader, book):
    """An unknown field echoed in an XML 400 cannot inject markup."""
    response = client_for(reader).post(
        _reviews(book),
        b'{"rating": 5, "a><b>x</b><c": 1}',
        content_type="application/json",
        HTTP_ACCEPT="application/xml",
    )

    assert response.status_code == 400
    root = ElementTree.fromstring(response.content)
    assert [child.tag for child in root] == ["a__b_x__b__c"]
    assert root.find("b") is None


def test_garbage_if_match_on_read_is_json_412(client_for, reader, book):
    """If-Match naming no current ETag is 412 on any method, in JSON."""
    response = client_for(reader).get(
        reverse("api:book-detail", kwargs={**V1, "pk": book.pk}),
        HTTP_IF_MATCH='"garbage", W/"x',
    )

    assert response.status_code == 412
    assert response.json() == {
        "detail": "The resource has changed since you read it (If-Match)."
    }


def test_unknown_version_in_the_browsable_api_is_404(client_for, reader):
    """/api/v9/ asked for as HTML is a 404 page, not a crash rendering forms."""
    response = client_for(reader).get("/api/v9/books/", HTTP_ACCEPT="text/html")

    assert response.status_code == 404
