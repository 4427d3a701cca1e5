"""Reviews under a book: the contract, one per user and book, own reviews only."""

from django.urls import reverse

from resources.models import Review
from tests.factories import BookFactory, ReviewFactory, UserFactory


def _url(book, **kwargs):
    return reverse("api:book-review-list", kwargs={"version": "v1", "book_pk": book.pk})


def test_create_review_has_the_contract_shape(client_for, reader):
    """POST {rating, text} gives 201 and {id, book, user (username), rating, text, created}."""
    book = BookFactory()
    response = client_for(reader).post(
        _url(book), {"rating": 4, "text": "Lovely."}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("book", "user", "rating", "text")} == {
        "book": book.pk,
        "user": "reader",
        "rating": 4,
        "text": "Lovely.",
    }
    assert {"id", "created"} <= set(body)
    assert Review.objects.get(pk=body["id"]).user == reader


def test_second_review_of_a_book_is_400(client_for, reader):
    """One review per user and book: the second is a validation error."""
    book = BookFactory()
    client = client_for(reader)
    client.post(_url(book), {"rating": 4, "text": "Once."}, format="json")

    response = client.post(_url(book), {"rating": 1, "text": "Twice."}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["You have already reviewed this book."]
    }
    assert Review.objects.filter(book=book).count() == 1


def test_rating_must_be_between_1_and_5(client_for, reader):
    """Ratings outside 1-5 are refused."""
    book = BookFactory()
    client = client_for(reader)

    low = client.post(_url(book), {"rating": 0}, format="json")
    high = client.post(_url(book), {"rating": 6}, format="json")

    assert low.json() == {
        "rating": ["Ensure this value is greater than or equal to 1."]
    }
    assert high.json() == {"rating": ["Ensure this value is less than or equal to 5."]}
    assert not Review.objects.exists()


def test_reviews_of_a_missing_book_are_404(client_for, reader):
    """A book that does not exist has no reviews to list or add to."""
    url = reverse("api:book-review-list", kwargs={"version": "v1", "book_pk": 999999})
    client = client_for(reader)

    assert client.get(url).status_code == 404
    assert client.post(url, {"rating": 3}, format="json").status_code == 404


def test_list_shows_only_this_books_reviews(client_for, reader):
    """Reviews are nested: other books' reviews do not appear."""
    book, other = BookFactory(), BookFactory()
    mine = ReviewFactory(book=book)
    ReviewFactory(book=other)

    body = client_for(reader).get(_url(book)).json()

    assert [r["id"] for r in body["results"]] == [mine.pk]


def test_author_updates_own_review(client_for, reader):
    """The author of a review can change it."""
    review = ReviewFactory(user=reader, rating=2)
    url = reverse(
        "api:book-review-detail",
        kwargs={"version": "v1", "book_pk": review.book_id, "pk": review.pk},
    )

    response = client_for(reader).patch(url, {"rating": 5}, format="json")

    assert response.status_code == 200
    review.refresh_from_db()
    assert review.rating == 5


def test_review_list_query_count_is_flat(
    client_for, reader, django_assert_max_num_queries
):
    """Listing reviews costs the same queries however many there are."""
    book = BookFactory()
    for n in range(8):
        ReviewFactory(book=book, user=UserFactory(username=f"critic{n}"))
    client = client_for(reader)

    # measured: savepoint, token, user perms, group perms, book, page, release
    with django_assert_max_num_queries(7):
        response = client.get(_url(book))

    assert {r["user"] for r in response.json()["results"]} == {
        f"critic{n}" for n in range(8)
    }
