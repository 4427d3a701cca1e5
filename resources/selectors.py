"""Reads: every query the API runs is shaped here (joins, annotations, statistics)."""

from decimal import Decimal
from typing import TypedDict

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    QuerySet,
    StdDev,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, ExtractYear

from resources.models import Author, Book, Review


def book_list(*, author_id: int | None = None) -> QuerySet[Book]:
    """Books with their author and creator joined, and their review count and
    average rating.

    The review figures are correlated subqueries, not a GROUP BY over a join to
    reviews: the database sorts and pages the books by their index alone and
    computes the figures for the rows it returns (each by the reviews' book index).
    """
    reviews = Review.objects.filter(book=OuterRef("pk")).order_by().values("book")
    books = (
        Book.objects.select_related("author", "created_by")
        .annotate(
            review_count=Coalesce(
                Subquery(reviews.annotate(n=Count("pk")).values("n")),
                0,
                output_field=IntegerField(),
            ),
            average_rating=Subquery(
                reviews.annotate(v=Avg("rating", output_field=FloatField())).values(
                    "v"
                ),
                output_field=FloatField(),
            ),
        )
        .order_by("-publication_date", "-id")
    )
    if author_id is not None:
        books = books.filter(author_id=author_id)
    return books


def author_list() -> QuerySet[Author]:
    """Authors with their number of books."""
    return Author.objects.annotate(book_count=Count("books")).order_by("name", "id")


def author_statistics() -> QuerySet[Author]:
    """Authors with book count, total and average price, and average review rating.

    The average rating comes from a subquery: joining books and then reviews in the
    same query would repeat each book once per review and inflate `Sum(price)`.
    """
    ratings = (
        Review.objects.filter(book__author=OuterRef("pk"))
        .order_by()
        .values("book__author")
        .annotate(value=Avg("rating", output_field=FloatField()))
        .values("value")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return Author.objects.annotate(
        book_count=Count("books"),
        total_price=Sum("books__price", output_field=money),
        average_price=Avg("books__price", output_field=money),
        average_rating=Subquery(ratings, output_field=FloatField()),
    ).order_by("name", "id")


def review_list(*, book_id: int) -> QuerySet[Review]:
    """The reviews of one book with their authors joined."""
    return Review.objects.filter(book_id=book_id).select_related("user")


class YearRow(TypedDict):
    year: int
    book_count: int
    average_price: Decimal | None


class CatalogueStatistics(TypedDict):
    book_count: int
    total_price: Decimal | None
    average_price: Decimal | None
    min_price: Decimal | None
    max_price: Decimal | None
    stddev_price: float | None
    review_count: int
    average_rating: float | None
    by_year: list[YearRow]


def catalogue_statistics() -> CatalogueStatistics:
    """Catalogue-wide price and rating figures plus a per-year breakdown (3 queries).

    `stddev_price` is the population standard deviation (`StdDev(sample=False)`):
    PostgreSQL's STDDEV_POP, and on SQLite the STDDEV_POP aggregate that Django's
    SQLite backend registers on every new connection (SQLite has none built in).
    """
    books = Book.objects.order_by().aggregate(
        book_count=Count("id"),
        total_price=Sum("price"),
        average_price=Avg("price"),
        min_price=Min("price"),
        max_price=Max("price"),
        stddev_price=StdDev("price", sample=False, output_field=FloatField()),
    )
    reviews = Review.objects.order_by().aggregate(
        review_count=Count("id"),
        average_rating=Avg("rating", output_field=FloatField()),
    )
    by_year = list(
        Book.objects.annotate(year=ExtractYear("publication_date"))
        .order_by("year")
        .values("year")
        .annotate(book_count=Count("id"), average_price=Avg("price"))
        .values("year", "book_count", "average_price")
    )
    return {**books, **reviews, "by_year": by_year}
