"""Query-parameter filters, search and ordering; bad parameters are a 400."""

import datetime
from decimal import Decimal

import django_filters
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework.exceptions import ValidationError
from rest_framework.fields import CharField
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request

from resources.models import Author, Book, Review

# Transforms that turn a date into a number, and the numbers they can give.
DATE_PART_RANGES = {
    "year": (datetime.MINYEAR, datetime.MAXYEAR),
    "iso_year": (datetime.MINYEAR, datetime.MAXYEAR),
    "quarter": (1, 4),
    "month": (1, 12),
    "week": (1, 53),
    "day": (1, 31),
    "week_day": (1, 7),
    "iso_week_day": (1, 7),
}
MAX_SEARCH_LENGTH = 200


def value_range(
    model: type[models.Model], field_name: str, lookup_expr: str
) -> tuple[int | Decimal, int | Decimal] | None:
    """The values a numeric filter on `field_name__lookup_expr` can meaningfully take.

    A year past 9999 makes Django build an impossible date (OverflowError); an
    integer or decimal wider than its column is a database error on PostgreSQL.
    Integer ranges are the portable ones (those of PostgreSQL), so SQLite
    answers alike. None: nothing known (django-filter still caps at 1e50).
    """
    transform = lookup_expr.split("__")[0]
    if transform in DATE_PART_RANGES:
        return DATE_PART_RANGES[transform]
    field = get_model_field(model, field_name)
    if isinstance(field, models.DecimalField):
        limit = Decimal(10) ** (field.max_digits - field.decimal_places)
        step = Decimal(10) ** -field.decimal_places
        return (-limit + step, limit - step)
    if isinstance(field, models.IntegerField):  # AutoFields too
        return BaseDatabaseOperations.integer_field_ranges.get(
            field.get_internal_type()
        )
    return None


class BoundedFilterSet(django_filters.FilterSet):
    """Numeric filters refuse values out of their column's range with a 400.

    Every `NumberFilter` (declared or generated from `Meta.fields`) gets the
    bounds of `value_range`, so the error names the parameter.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            if not isinstance(filter_, django_filters.NumberFilter):
                continue
            bounds = value_range(
                self._meta.model, filter_.field_name, filter_.lookup_expr
            )
            if bounds is not None:
                filter_.extra.setdefault("min_value", bounds[0])
                filter_.extra.setdefault("max_value", bounds[1])


class QueryFilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when no parameter of the filterset is given.

    Building and validating a filterset form costs more than the rest of a small
    list; with none of its parameters in the query it would filter nothing.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None:
            # startswith: range widgets take `<name>_min`, `<name>_after` and such.
            names = tuple(filterset_class.base_filters)
            if not any(param.startswith(names) for param in request.query_params):
                return queryset
        return super().filter_queryset(request, queryset, view)


class StrictSearchFilter(SearchFilter):
    """`?search=` with a NUL byte or over 200 characters is a 400 naming it.

    SQLite refuses LIKE patterns over 50,000 bytes (a 500), and long patterns
    cost every database a scan per term.
    """

    def get_search_terms(self, request: Request) -> list[str]:
        field = CharField(
            trim_whitespace=False, allow_blank=True, max_length=MAX_SEARCH_LENGTH
        )
        value = request.query_params.get(self.search_param, "")
        try:
            field.run_validation(value)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None
        return super().get_search_terms(request)


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


class BookFilter(BoundedFilterSet):
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


class AuthorFilter(BoundedFilterSet):
    born_after = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    born_before = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte")

    class Meta:
        model = Author
        fields = ["name"]


class ReviewFilter(BoundedFilterSet):
    min_rating = django_filters.NumberFilter(field_name="rating", lookup_expr="gte")

    class Meta:
        model = Review
        fields = ["rating"]
