"""Statistics endpoints checked against figures computed here in Python."""

import statistics
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import AuthorFactory, BookFactory, ReviewFactory

V1 = {"version": "v1"}
HALF_CENT = Decimal("0.005")


@pytest.fixture
def shelf():
    """Books over three years, two authors, several reviews per book."""
    le_guin = AuthorFactory(name="Le Guin")
    banks = AuthorFactory(name="Banks")
    rows = [
        (le_guin, date(1969, 3, 1), "8.99", [5, 4, 4]),
        (le_guin, date(1974, 5, 1), "10.50", [3]),
        (le_guin, date(1974, 9, 1), "12.00", []),
        (banks, date(1987, 4, 1), "9.99", [5, 5]),
        (banks, date(1987, 6, 1), "0.00", [1, 2, 3, 4]),
        (banks, date(1996, 1, 1), "24.75", [2]),
    ]
    books = []
    for author, published, price, ratings in rows:
        book = BookFactory(
            author=author, publication_date=published, price=Decimal(price)
        )
        for rating in ratings:
            ReviewFactory(book=book, rating=rating)
        books.append((book, ratings))
    return {"authors": (le_guin, banks), "books": books}


def _close(got: str | None, expected: Decimal) -> bool:
    return got is not None and abs(Decimal(got) - expected) <= HALF_CENT


def test_catalogue_statistics_match_python(client_for, reader, shelf):
    """Count, sum, mean, min, max, population stddev and rating match `statistics`."""
    prices = [book.price for book, _ in shelf["books"]]
    ratings = [r for _, rs in shelf["books"] for r in rs]

    body = client_for(reader).get(reverse("api:stats-list", kwargs=V1)).json()

    assert body["book_count"] == len(prices)
    assert body["total_price"] == str(sum(prices))
    assert _close(body["average_price"], statistics.mean(prices))
    assert body["min_price"] == "0.00"
    assert body["max_price"] == "24.75"
    expected_stddev = Decimal(str(statistics.pstdev([float(p) for p in prices])))
    assert _close(body["stddev_price"], expected_stddev)
    assert body["review_count"] == len(ratings)
    assert body["average_rating"] == pytest.approx(statistics.mean(ratings))


def test_statistics_by_year_match_python(client_for, reader, shelf):
    """The per-year breakdown has each year's count and mean price, oldest first."""
    by_year = defaultdict(list)
    for book, _ in shelf["books"]:
        by_year[book.publication_date.year].append(book.price)

    rows = (
        client_for(reader).get(reverse("api:stats-list", kwargs=V1)).json()["by_year"]
    )

    assert [r["year"] for r in rows] == sorted(by_year)
    for row in rows:
        prices = by_year[row["year"]]
        assert row["book_count"] == len(prices)
        assert _close(row["average_price"], statistics.mean(prices))


def test_empty_catalogue_statistics(client_for, reader):
    """Without books every figure is zero or null, never an error."""
    body = client_for(reader).get(reverse("api:stats-list", kwargs=V1)).json()

    assert body == {
        "book_count": 0,
        "total_price": None,
        "average_price": None,
        "min_price": None,
        "max_price": None,
        "stddev_price": None,
        "review_count": 0,
        "average_rating": None,
        "by_year": [],
    }


def test_statistics_query_count(
    client_for, reader, shelf, django_assert_max_num_queries
):
    """Three aggregate queries whatever the catalogue size."""
    client = client_for(reader)
    # measured: savepoint, token, user perms, group perms, books, reviews, years, release
    with django_assert_max_num_queries(8):
        assert client.get(reverse("api:stats-list", kwargs=V1)).status_code == 200


def test_author_statistics_match_python(client_for, reader, shelf):
    """Per author: book count, total price and average rating are not inflated by
    joining reviews (several reviews per book)."""
    expected = {}
    for author in shelf["authors"]:
        mine = [(b, rs) for b, rs in shelf["books"] if b.author_id == author.pk]
        ratings = [r for _, rs in mine for r in rs]
        expected[author.pk] = (
            len(mine),
            sum(b.price for b, _ in mine),
            statistics.mean(b.price for b, _ in mine),
            statistics.mean(ratings),
        )
    AuthorFactory(name="Unpublished")

    body = client_for(reader).get(reverse("api:author-stats", kwargs=V1)).json()

    assert body["count"] == 3
    rows = {row["id"]: row for row in body["results"]}
    for pk, (count, total, mean_price, mean_rating) in expected.items():
        assert rows[pk]["book_count"] == count
        assert Decimal(rows[pk]["total_price"]) == total
        assert _close(rows[pk]["average_price"], mean_price)
        assert rows[pk]["average_rating"] == pytest.approx(mean_rating)
    unpublished = next(r for r in body["results"] if r["name"] == "Unpublished")
    assert unpublished == {
        "id": unpublished["id"],
        "name": "Unpublished",
        "book_count": 0,
        "total_price": None,
        "average_price": None,
        "average_rating": None,
    }


def test_author_statistics_query_count(
    client_for, reader, shelf, django_assert_max_num_queries
):
    """Per-author statistics cost the same queries for any number of authors."""
    AuthorFactory.create_batch(5)
    client = client_for(reader)
    # measured: savepoint, token, user perms, group perms, count, page, release
    with django_assert_max_num_queries(7):
        response = client.get(reverse("api:author-stats", kwargs=V1))
    assert len(response.json()["results"]) == 7
