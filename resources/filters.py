"""Query-parameter filters, search and ordering; bad parameters are a 400."""

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

from resources.models import Author, Book, Review


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` with an unknown field is refused, not silently ignored.

    The primary key is appended as a tie-breaker so pages are deterministic.
    """

    def remove_invalid_fields(self, queryset: QuerySet, fields, view, request: Request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        if len(valid) != len(fields):
            allowed = sorted(
                name
                for name, _ in self.get_valid_fields(
                    queryset, view, {"request": request}
                )
            )
            raise ValidationError(
                {self.ordering_param: [f"Order by one of: {', '.join(allowed)}."]}
            )
        return valid

    def get_ordering(self, request: Request, queryset: QuerySet, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            descending = ordering[0].startswith("-")
            ordering = [*ordering, "-id" if descending else "id"]
        return ordering


class BookFilter(django_filters.FilterSet):
    """Filter books by author, price range, publication year or date range, ISBN."""

    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    published_after = django_filters.DateFilter(
        field_name="publication_date", lookup_expr="gte"
    )
    published_before = django_filters.DateFilter(
        field_name="publication_date", lookup_expr="lte"
    )
    year = django_filters.NumberFilter(
        field_name="publication_date", lookup_expr="year"
    )
    min_rating = django_filters.NumberFilter(
        field_name="average_rating", lookup_expr="gte"
    )

    class Meta:
        model = Book
        fields = ["author", "isbn"]


class AuthorFilter(django_filters.FilterSet):
    born_after = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    born_before = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte")

    class Meta:
        model = Author
        fields = ["name"]


class ReviewFilter(django_filters.FilterSet):
    min_rating = django_filters.NumberFilter(field_name="rating", lookup_expr="gte")

    class Meta:
        model = Review
        fields = ["rating"]
