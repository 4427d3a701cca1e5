"""Authors: page-number list with a total, nested books, deletes that keep data whole."""

from django.urls import reverse

from resources.models import Author, Book
from tests.factories import AuthorFactory, BookFactory, isbn13

V1 = {"version": "v1"}


def test_author_list_has_total_and_book_counts(client_for, reader):
    """Authors are paginated by page number with a `count`; each has book_count."""
    austen = AuthorFactory(name="Austen")
    BookFactory.create_batch(3, author=austen)
    AuthorFactory(name="Brontë")

    body = client_for(reader).get(reverse("api:author-list", kwargs=V1)).json()

    assert body["count"] == 2
    assert [(a["name"], a["book_count"]) for a in body["results"]] == [
        ("Austen", 3),
        ("Brontë", 0),
    ]


def test_author_list_query_count_is_flat(
    client_for, reader, django_assert_max_num_queries
):
    """Listing authors costs the same queries for any number of authors."""
    for author in AuthorFactory.create_batch(12):
        BookFactory.create_batch(2, author=author)
    client = client_for(reader)

    # measured: savepoint, token, user perms, group perms, count, page, release
    with django_assert_max_num_queries(7):
        response = client.get(reverse("api:author-list", kwargs=V1))

    assert response.json()["count"] == 12


def test_nested_books_list_only_that_author(client_for, reader):
    """`/authors/{id}/books/` lists that author's books."""
    author = AuthorFactory()
    mine = BookFactory.create_batch(2, author=author)
    BookFactory()
    url = reverse("api:author-book-list", kwargs={**V1, "author_pk": author.pk})

    body = client_for(reader).get(url).json()

    assert sorted(b["id"] for b in body["results"]) == sorted(b.pk for b in mine)


def test_nested_books_query_count_is_flat(
    client_for, reader, django_assert_max_num_queries
):
    """The nested list costs the same queries however many books there are."""
    author = AuthorFactory()
    BookFactory.create_batch(9, author=author)
    client = client_for(reader)
    url = reverse("api:author-book-list", kwargs={**V1, "author_pk": author.pk})

    # measured: savepoint, token, user perms, group perms, author, page, release
    with django_assert_max_num_queries(7):
        response = client.get(url)

    assert len(response.json()["results"]) == 9


def test_book_posted_under_an_author_belongs_to_them(client_for, editor):
    """POST to the nested list takes the author from the URL."""
    author = AuthorFactory()
    url = reverse("api:author-book-list", kwargs={**V1, "author_pk": author.pk})
    payload = {
        "title": "Nested",
        "publication_date": "2011-11-11",
        "price": "11.00",
        "isbn": isbn13(1111),
    }

    response = client_for(editor).post(url, payload, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["author"] == author.pk
    assert Book.objects.get().author == author


def test_nested_list_of_missing_author_is_404(client_for, reader):
    """An unknown author has no book list."""
    url = reverse("api:author-book-list", kwargs={**V1, "author_pk": 424242})

    assert client_for(reader).get(url).status_code == 404


def test_author_with_books_cannot_be_deleted(client_for, editor):
    """Deleting an author who still has books is a 400, and nothing is deleted."""
    book = BookFactory()
    url = reverse("api:author-detail", kwargs={**V1, "pk": book.author_id})

    response = client_for(editor).delete(url)

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Delete or reassign this author's books first."]
    }
    assert Author.objects.filter(pk=book.author_id).exists()


def test_author_without_books_is_deleted(client_for, editor):
    """An author with no books can be deleted."""
    author = AuthorFactory()
    url = reverse("api:author-detail", kwargs={**V1, "pk": author.pk})

    assert client_for(editor).delete(url).status_code == 204
    assert not Author.objects.exists()


def test_author_detail_has_etag(client_for, reader):
    """Author detail responses are conditional too."""
    author = AuthorFactory()
    url = reverse("api:author-detail", kwargs={**V1, "pk": author.pk})
    client = client_for(reader)

    etag = client.get(url)["ETag"]

    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
