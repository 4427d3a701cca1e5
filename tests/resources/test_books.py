"""Books: the v1 contract, v2's embedded author, writes, filters, ETags, formats."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from resources.models import Book
from tests.factories import AuthorFactory, BookFactory, ReviewFactory, isbn13

V1 = {"version": "v1"}
V2 = {"version": "v2"}
BOOK_KEYS = {
    "id",
    "title",
    "author",
    "publication_date",
    "price",
    "isbn",
    "summary",
    "average_rating",
    "review_count",
}


def test_list_has_the_contract_shape(client_for, reader):
    """v1 books: cursor page, author as id, price as string, computed rating."""
    book = BookFactory(price=Decimal("7.50"))
    ReviewFactory(book=book, rating=5)
    ReviewFactory(book=book, rating=2)

    body = client_for(reader).get(reverse("api:book-list", kwargs=V1)).json()

    assert set(body) == {"next", "previous", "results"}
    item = body["results"][0]
    assert set(item) >= BOOK_KEYS
    assert item["author"] == book.author_id
    assert item["price"] == "7.50"
    assert item["isbn"] == book.isbn
    assert item["review_count"] == 2
    assert item["average_rating"] == pytest.approx(3.5)


def test_book_without_reviews_has_null_rating(client_for, reader):
    """No reviews: average_rating is null and review_count 0."""
    book = BookFactory()
    url = reverse("api:book-detail", kwargs={**V1, "pk": book.pk})

    body = client_for(reader).get(url).json()

    assert (body["average_rating"], body["review_count"]) == (None, 0)


def test_v2_embeds_the_author(client_for, reader):
    """v2 shows the author as an object; v1 keeps the id."""
    book = BookFactory(author=AuthorFactory(name="Ursula K. Le Guin"))
    url_v2 = reverse("api:book-detail", kwargs={**V2, "pk": book.pk})
    url_v1 = reverse("api:book-detail", kwargs={**V1, "pk": book.pk})
    client = client_for(reader)

    assert client.get(url_v2).json()["author"] == {
        "id": book.author_id,
        "name": "Ursula K. Le Guin",
    }
    assert client.get(url_v1).json()["author"] == book.author_id


def test_v2_creates_with_author_id(client_for, editor):
    """v2 writes name the author as `author_id`."""
    author = AuthorFactory()
    payload = {
        "title": "New",
        "author_id": author.pk,
        "publication_date": "2020-02-02",
        "price": "3.00",
        "isbn": isbn13(4242),
    }
    response = client_for(editor).post(
        reverse("api:book-list", kwargs=V2), payload, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["author"]["id"] == author.pk


def test_unknown_version_is_404(client_for, reader):
    """Only v1 and v2 exist."""
    response = client_for(reader).get("/api/v3/books/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid version in URL path."}


def test_create_records_creator_and_normalises_isbn(client_for, editor):
    """A created book stores the ISBN without hyphens and who created it."""
    author = AuthorFactory()
    payload = {
        "title": "The Pragmatic Book",
        "author": author.pk,
        "publication_date": "2019-09-13",
        "price": "39.95",
        "isbn": "978-0-13-595705-9",
        "summary": "Tips.",
    }
    response = client_for(editor).post(
        reverse("api:book-list", kwargs=V1), payload, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["isbn"] == "9780135957059"
    assert body["created_by"] == "editor"
    assert body["review_count"] == 0
    book = Book.objects.get(pk=body["id"])
    assert (book.created_by, book.price) == (editor, Decimal("39.95"))


def test_update_and_delete(client_for, editor):
    """PATCH changes a field; DELETE removes the book."""
    book = BookFactory(price=Decimal("5.00"))
    url = reverse("api:book-detail", kwargs={**V1, "pk": book.pk})
    client = client_for(editor)

    assert client.patch(url, {"price": "6.25"}, format="json").json()["price"] == "6.25"
    assert client.delete(url).status_code == 204
    assert not Book.objects.filter(pk=book.pk).exists()


TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"isbn": "9780135957058"}, "isbn", "This ISBN-13 has a wrong check digit."),
        ({"isbn": "12345"}, "isbn", "Enter an ISBN-13: 13 digits, hyphens allowed."),
        (
            {"price": "-0.01"},
            "price",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"price": "abc"}, "price", "A valid number is required."),
        (
            {"publication_date": TOMORROW},
            "publication_date",
            "The date cannot be in the future.",
        ),
        (
            {"publication_date": "1900-01-01"},
            "publication_date",
            "A book cannot appear before its author's birth.",
        ),
        ({"title": ""}, "title", "This field may not be blank."),
        ({"author": 999999}, "author", 'Invalid pk "999999" - object does not exist.'),
        ({"review_count": 5}, "review_count", "Unknown or read-only field."),
    ],
)
def test_invalid_books_are_refused(client_for, editor, change, field, message):
    """Field and object rules give 400 with a message per field; nothing is saved."""
    author = AuthorFactory(birth_date=date(1950, 1, 1))
    payload = {
        "title": "Valid",
        "author": author.pk,
        "publication_date": "2000-01-01",
        "price": "1.00",
        "isbn": isbn13(77),
        **change,
    }
    response = client_for(editor).post(
        reverse("api:book-list", kwargs=V1), payload, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not Book.objects.exists()


def test_duplicate_isbn_is_refused(client_for, editor):
    """ISBNs are unique."""
    existing = BookFactory()
    payload = {
        "title": "Copy",
        "author": existing.author_id,
        "publication_date": "2000-01-01",
        "price": "1.00",
        "isbn": existing.isbn,
    }
    response = client_for(editor).post(
        reverse("api:book-list", kwargs=V1), payload, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"isbn": ["Book with this ISBN-13 already exists."]}


def test_search_filter_and_ordering(client_for, reader):
    """`search`, filters and `ordering` narrow and sort the list."""
    tolkien = AuthorFactory(name="J. R. R. Tolkien")
    BookFactory(title="The Hobbit", author=tolkien, price=Decimal("9.00"))
    BookFactory(title="The Silmarillion", author=tolkien, price=Decimal("15.00"))
    BookFactory(title="Dune", price=Decimal("12.00"), publication_date=date(1965, 8, 1))
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1)

    def titles(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return [b["title"] for b in response.json()["results"]]

    assert titles(search="tolkien", ordering="price") == [
        "The Hobbit",
        "The Silmarillion",
    ]
    assert titles(ordering="-price") == ["The Silmarillion", "Dune", "The Hobbit"]
    assert titles(min_price="10", max_price="13") == ["Dune"]
    assert titles(year="1965") == ["Dune"]
    assert titles(author=tolkien.pk, ordering="title") == [
        "The Hobbit",
        "The Silmarillion",
    ]


def test_cursor_pages_cover_every_book_once(client_for, reader):
    """Following `next` visits each book exactly once, even with equal dates."""
    books = BookFactory.create_batch(7, publication_date=date(2010, 1, 1))
    client = client_for(reader)
    url = reverse("api:book-list", kwargs=V1) + "?page_size=3"
    seen = []
    while url:
        body = client.get(url).json()
        seen += [b["id"] for b in body["results"]]
        url = body["next"]

    assert sorted(seen) == sorted(b.pk for b in books)
    assert len(seen) == 7


@pytest.mark.parametrize("page_size", [2, 10])
def test_list_query_count_is_flat(
    settings, client_for, reader, django_assert_max_num_queries, page_size
):
    """Listing books costs the same queries whatever the page size."""
    for book in BookFactory.create_batch(10, created_by=reader):
        ReviewFactory.create_batch(2, book=book)
    client = client_for(reader)

    # measured: token (a bearer-cache miss), user perms, group perms, one page
    # (author and creator joined, review figures as subqueries), and without a
    # shared cache the catalogue generation; reads run in no transaction
    with django_assert_max_num_queries(4 + (not settings.CACHE_SHARED)):
        response = client.get(
            reverse("api:book-list", kwargs=V1), {"page_size": page_size}
        )

    assert len(response.json()["results"]) == page_size
    assert {b["review_count"] for b in response.json()["results"]} == {2}
    assert {b["created_by"] for b in response.json()["results"]} == {"reader"}


def test_v2_list_query_count_is_flat(
    settings, client_for, reader, django_assert_max_num_queries
):
    """The embedded author costs no extra query."""
    BookFactory.create_batch(6)
    client = client_for(reader)

    with django_assert_max_num_queries(4 + (not settings.CACHE_SHARED)):
        response = client.get(reverse("api:book-list", kwargs=V2))

    assert len({b["author"]["name"] for b in response.json()["results"]}) == 6


def test_etag_gives_304_when_unchanged(client_for, reader, editor):
    """If-None-Match with the current ETag gets 304; after a change, 200 again."""
    book = BookFactory()
    url = reverse("api:book-detail", kwargs={**V1, "pk": book.pk})
    client = client_for(reader)

    first = client.get(url)
    etag = first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    client_for(editor).patch(url, {"summary": "Changed."}, format="json")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_xml_is_negotiated(client_for, reader):
    """Accept: application/xml renders XML."""
    book = BookFactory(title="Emma")
    url = reverse("api:book-detail", kwargs={**V1, "pk": book.pk})

    response = client_for(reader).get(url, HTTP_ACCEPT="application/xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert b"<title>Emma</title>" in response.content


def test_unproducible_media_type_is_406(client_for, reader):
    """An Accept we cannot satisfy gets 406."""
    response = client_for(reader).get(
        reverse("api:book-list", kwargs=V1), HTTP_ACCEPT="image/png"
    )

    assert response.status_code == 406


def test_xml_request_body_is_parsed(client_for, editor):
    """Writes accept XML bodies too."""
    author = AuthorFactory()
    body = (
        f"<root><title>XML Book</title><author>{author.pk}</author>"
        "<publication_date>2001-01-01</publication_date><price>2.00</price>"
        f"<isbn>{isbn13(31337)}</isbn></root>"
    )
    response = client_for(editor).post(
        reverse("api:book-list", kwargs=V1), body, content_type="application/xml"
    )

    assert response.status_code == 201, response.content
    assert Book.objects.get().title == "XML Book"


def test_if_match_prevents_lost_updates(client_for, editor):
    """A write with the current ETag succeeds; one with a stale ETag gets 412."""
    book = BookFactory(price=Decimal("5.00"))
    url = reverse("api:book-detail", kwargs={**V1, "pk": book.pk})
    client = client_for(editor)
    etag = client.get(url)["ETag"]

    first = client.patch(url, {"price": "6.00"}, format="json", HTTP_IF_MATCH=etag)
    stale = client.patch(url, {"price": "7.00"}, format="json", HTTP_IF_MATCH=etag)

    assert first.status_code == 200
    assert stale.status_code == 412
    assert stale.json() == {
        "detail": "The resource has changed since you read it (If-Match)."
    }
    book.refresh_from_db()
    assert book.price == Decimal("6.00")
