"""Pagination that answers malformed page and cursor parameters with a 400."""

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import (
    Cursor,
    CursorPagination,
    PageNumberPagination,
)
from rest_framework.request import Request


class PageSizeMixin:
    """`?page_size=`: a positive whole number (at most `max_page_size`), else a 400.

    DRF falls back to the default size on a malformed value, silently.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and (not size.isdigit() or int(size) < 1):
            raise ValidationError(
                {self.page_size_query_param: ["Enter a positive whole number."]}
            )
        return super().get_page_size(request)


class CataloguePageNumberPagination(PageSizeMixin, PageNumberPagination):
    """Page numbers with a total `count`, for lists where the total matters."""

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if (
            raw is not None
            and raw not in self.last_page_strings
            and (not raw.isdigit() or int(raw) < 1)
        ):
            raise ValidationError({self.page_query_param: ["Enter a page number."]})
        # DRF answers a page past the end with 404, which is right: it is not found.
        return super().paginate_queryset(queryset, request, view)


class CatalogueCursorPagination(PageSizeMixin, CursorPagination):
    """Opaque cursors for the big lists: stable under inserts, no COUNT query.

    The first ordering field positions the cursor; views add the primary key as a
    tie-breaker so equal values do not repeat or vanish between pages.
    """

    ordering = ("-publication_date", "-id")

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self.invalid_cursor() from None
        if cursor is not None and cursor.position is not None:
            self.check_position(cursor.position)
        return cursor

    def check_position(self, position: str) -> None:
        """A cursor's position must be a value of the ordering field's column.

        Cursors are client input: a position with a NUL byte, or a decimal wider
        than the column, is a DataError on PostgreSQL, not an empty page.
        """
        if "\x00" in position:
            raise self.invalid_cursor()
        try:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:  # an annotation: its type is not known here
            return
        try:
            field.clean(position, None)
        except DjangoValidationError:
            raise self.invalid_cursor() from None

    def invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: ["Invalid cursor."]})

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None):
        self.model = queryset.model
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError):
            # A well-formed cursor whose position does not fit the ordering field.
            raise self.invalid_cursor() from None


class ReviewCursorPagination(CatalogueCursorPagination):
    """Reviews, newest first."""

    ordering = ("-created", "-id")
