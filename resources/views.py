"""Viewsets of the catalogue: policy (scopes, permissions, filters, pagination) only."""

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from oauth_server import scopes
from resources import list_cache, selectors, services
from resources.conditional import ConditionalRetrieveMixin
from resources.filters import AuthorFilter, BookFilter, ReviewFilter
from resources.models import Author, Book, Review
from resources.pagination import (
    CatalogueCursorPagination,
    CataloguePageNumberPagination,
    ReviewCursorPagination,
)
from resources.permissions import (
    HasCataloguePermission,
    IsOwnerOrReadOnly,
    TokenHasMethodScope,
)
from resources.serializers import (
    AuthorBookSerializer,
    AuthorBookV2Serializer,
    AuthorSerializer,
    AuthorStatisticsSerializer,
    BookSerializer,
    BookV2Serializer,
    CatalogueStatisticsSerializer,
    ReviewSerializer,
)

_READ = [[scopes.BOOKS_READ]]
_WRITE = [[scopes.BOOKS_WRITE]]
# DOT's OpenAPI-style map: reading needs books:read, writing books:write.
CATALOGUE_SCOPES = {
    "GET": _READ,
    "HEAD": _READ,
    "OPTIONS": _READ,
    "POST": _WRITE,
    "PUT": _WRITE,
    "PATCH": _WRITE,
    "DELETE": _WRITE,
}


class CatalogueViewMixin(ConditionalRetrieveMixin):
    """Scope, permission and throttle policy shared by every catalogue endpoint."""

    permission_classes = [TokenHasMethodScope, HasCataloguePermission]
    required_alternate_scopes = CATALOGUE_SCOPES
    throttle_scope = "catalogue_writes"
    # Read with the bearer token's lookup, in its round trip (list pages).
    cache_reads_ahead = (list_cache.GENERATION_KEY,)

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # Out of ATOMIC_REQUESTS; `dispatch` opens a transaction for writes only.
        return transaction.non_atomic_requests(super().as_view(actions, **initkwargs))

    def dispatch(self, request, *args, **kwargs):
        """Reads without a transaction, each write in one.

        Reads need none, and on SQLite an IMMEDIATE one would queue them behind
        writers. A write and whatever follows it in the view commit together, or,
        on any error (the exception handler marks the rollback), not at all.
        """
        self.in_transaction = request.method not in SAFE_METHODS
        if not self.in_transaction:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        """A list page from the cache, once the request has been let in.

        `initial()` has authenticated, checked scopes and permissions and
        throttled by now; the page itself is the same for every reader
        (resources/list_cache.py).
        """
        ttl = list_cache.seconds()
        if not ttl:
            return super().list(request, *args, **kwargs)
        key = list_cache.page_key(f"{type(self).__name__}:{request.path}", request)
        data = cache.get(key)
        if data is not None:
            return Response(data)
        response = super().list(request, *args, **kwargs)
        if response.status_code == 200:
            cache.set(key, response.data, ttl)
        return response

    def initialize_request(self, request, *args, **kwargs) -> Request:
        request = super().initialize_request(request, *args, **kwargs)
        # DRF sets the version after checking it; the browsable API's error page
        # for an unknown version (/api/v9/) asks for serializers, which read it.
        request.version = None
        return request


class BookViewSet(CatalogueViewMixin, viewsets.ModelViewSet):
    """The catalogue's books; v2 embeds the author instead of naming its id."""

    pagination_class = CatalogueCursorPagination
    filterset_class = BookFilter
    search_fields = ["title", "author__name", "isbn", "summary"]
    ordering_fields = ["title", "publication_date", "price", "created", "id"]

    def get_queryset(self) -> QuerySet[Book]:
        return selectors.book_list()

    def get_serializer_class(self) -> type[BaseSerializer]:
        return BookV2Serializer if self.request.version == "v2" else BookSerializer

    def perform_create(self, serializer: BookSerializer) -> None:
        book = services.book_create(
            created_by=self.request.user, **serializer.validated_data
        )
        serializer.instance = selectors.book_list().get(pk=book.pk)

    def perform_update(self, serializer: BookSerializer) -> None:
        book = services.book_update(
            book=serializer.instance, **serializer.validated_data
        )
        serializer.instance = selectors.book_list().get(pk=book.pk)

    def perform_destroy(self, instance: Book) -> None:
        services.book_delete(book=instance)


class AuthorViewSet(CatalogueViewMixin, viewsets.ModelViewSet):
    """Authors, paginated by page number (with a total), and their statistics."""

    pagination_class = CataloguePageNumberPagination
    filterset_class = AuthorFilter
    search_fields = ["name", "biography"]
    ordering_fields = ["name", "birth_date", "id"]

    def get_queryset(self) -> QuerySet[Author]:
        if self.action == "stats":
            return selectors.author_statistics()
        return selectors.author_list()

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "stats":
            return AuthorStatisticsSerializer
        return AuthorSerializer

    def perform_create(self, serializer: AuthorSerializer) -> None:
        author = services.author_create(**serializer.validated_data)
        serializer.instance = selectors.author_list().get(pk=author.pk)

    def perform_update(self, serializer: AuthorSerializer) -> None:
        author = services.author_update(
            author=serializer.instance, **serializer.validated_data
        )
        serializer.instance = selectors.author_list().get(pk=author.pk)

    def perform_destroy(self, instance: Author) -> None:
        services.author_delete(author=instance)

    # A page of figures, as `list` answers (the schema would say one object).
    @extend_schema(responses=AuthorStatisticsSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="stats")
    def stats(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Per author: book count, total and average price, average review rating."""
        return self.list(request, *args, **kwargs)


class AuthorBookViewSet(
    CatalogueViewMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The books of one author; a book posted here belongs to that author."""

    pagination_class = CatalogueCursorPagination
    filterset_class = BookFilter
    search_fields = ["title", "isbn", "summary"]
    ordering_fields = ["title", "publication_date", "price", "created", "id"]

    @cached_property
    def author(self) -> Author:
        return get_object_or_404(Author, pk=self.kwargs["author_pk"])

    def get_queryset(self) -> QuerySet[Book]:
        if getattr(
            self, "swagger_fake_view", False
        ):  # schema generation: no URL kwargs
            return Book.objects.none()
        return selectors.book_list(author_id=self.author.pk)

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.request.version == "v2":
            return AuthorBookV2Serializer
        return AuthorBookSerializer

    def perform_create(self, serializer: AuthorBookSerializer) -> None:
        book = services.book_create(
            created_by=self.request.user,
            author=self.author,
            **serializer.validated_data,
        )
        serializer.instance = selectors.book_list().get(pk=book.pk)


class ReviewViewSet(CatalogueViewMixin, viewsets.ModelViewSet):
    """Reviews of one book; anyone who may read writes in their own name, and
    changes only their own reviews."""

    permission_classes = [*CatalogueViewMixin.permission_classes, IsOwnerOrReadOnly]
    write_permission = None  # reviews need no catalogue-editing right
    pagination_class = ReviewCursorPagination
    filterset_class = ReviewFilter
    ordering_fields = ["created", "rating", "id"]
    throttle_scope = "review_writes"

    @cached_property
    def book(self) -> Book:
        return get_object_or_404(Book.objects.only("pk"), pk=self.kwargs["book_pk"])

    def get_queryset(self) -> QuerySet[Review]:
        if getattr(
            self, "swagger_fake_view", False
        ):  # schema generation: no URL kwargs
            return Review.objects.none()
        return selectors.review_list(book_id=self.book.pk)

    def get_serializer_class(self) -> type[BaseSerializer]:
        return ReviewSerializer

    def perform_create(self, serializer: ReviewSerializer) -> None:
        serializer.instance = services.review_create(
            book=self.book, user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: ReviewSerializer) -> None:
        serializer.instance = services.review_update(
            review=serializer.instance, **serializer.validated_data
        )


class CatalogueStatisticsViewSet(CatalogueViewMixin, viewsets.GenericViewSet):
    """Catalogue-wide price and rating statistics, with a per-year breakdown."""

    serializer_class = CatalogueStatisticsSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Book]:
        return Book.objects.none()  # statistics come from one selector

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        """The catalogue figures (3 queries whatever the catalogue size)."""
        return Response(self.get_serializer(selectors.catalogue_statistics()).data)
