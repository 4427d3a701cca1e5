"""Shapes and field rules of the API; no side effects (writes live in services)."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.serializers import RejectUnknownFieldsMixin
from resources.models import Author, Book, Review
from resources.validators import (
    normalize_isbn,
    validate_isbn13,
    validate_plain_text,
    validate_published_after_birth,
)


class StrictSerializerMixin(RejectUnknownFieldsMixin):
    """Rejects fields the serializer does not know instead of silently ignoring them,
    and control characters in every writable text field (`validate_plain_text`).
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.CharField) and not field.read_only:
                field.validators.append(validate_plain_text)
        return fields


class AuthorSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """An author; `book_count` is computed."""

    book_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Author
        fields = ["id", "name", "birth_date", "biography", "book_count"]


class AuthorSummarySerializer(serializers.ModelSerializer):
    """The author as embedded in a v2 book."""

    class Meta:
        model = Author
        fields = ["id", "name"]
        read_only_fields = fields


class AuthorStatisticsSerializer(serializers.ModelSerializer):
    """Per-author figures; prices are decimal strings, the rating a number or null."""

    book_count = serializers.IntegerField()
    total_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )
    average_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )
    average_rating = serializers.FloatField(allow_null=True)

    class Meta:
        model = Author
        fields = [
            "id",
            "name",
            "book_count",
            "total_price",
            "average_price",
            "average_rating",
        ]
        read_only_fields = fields


class BookSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A book (v1: `author` is the author's id).

    `isbn` accepts hyphens and is stored as 13 digits; `average_rating` and
    `review_count` are computed from the reviews.
    """

    isbn = serializers.CharField(
        max_length=17,
        validators=[validate_isbn13],
        help_text="ISBN-13, hyphens allowed; stored as 13 digits.",
    )
    price = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)
    average_rating = serializers.FloatField(read_only=True, allow_null=True)
    review_count = serializers.IntegerField(read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Book
        fields = [
            "id",
            "title",
            "author",
            "publication_date",
            "price",
            "isbn",
            "summary",
            "average_rating",
            "review_count",
            "created_by",
            "created",
            "updated",
        ]
        read_only_fields = ["created", "updated"]

    def validate_isbn(self, value: str) -> str:
        return normalize_isbn(value)

    def validate(self, attrs: dict) -> dict:
        author = attrs.get("author") or getattr(self.instance, "author", None)
        published = attrs.get("publication_date") or getattr(
            self.instance, "publication_date", None
        )
        if author:
            validate_published_after_birth(
                publication_date=published, birth_date=author.birth_date
            )
        return attrs


class BookV2Serializer(BookSerializer):
    """A book (v2): the author embedded as an object, so clients need no second call.

    Written with `author_id`; v1 keeps the plain id for existing clients.
    """

    author = AuthorSummarySerializer(read_only=True)
    author_id = serializers.PrimaryKeyRelatedField(
        source="author", queryset=Author.objects.all(), write_only=True
    )

    class Meta(BookSerializer.Meta):
        fields = [*BookSerializer.Meta.fields, "author_id"]


class AuthorBookSerializer(BookSerializer):
    """A book created under `/authors/{id}/books/`: the author comes from the URL."""

    author = serializers.PrimaryKeyRelatedField(read_only=True)


class AuthorBookV2Serializer(BookV2Serializer):
    """A v2 book under `/authors/{id}/books/`: the author comes from the URL."""

    author_id = None

    class Meta(BookV2Serializer.Meta):
        fields = BookSerializer.Meta.fields


class ReviewSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A review; `book` and `user` come from the URL and the token."""

    user = serializers.CharField(source="user.get_username", read_only=True)
    rating = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = Review
        fields = ["id", "book", "user", "rating", "text", "created", "updated"]
        read_only_fields = ["book", "created", "updated"]


class YearStatisticsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    book_count = serializers.IntegerField()
    average_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )


# One object, though the stats endpoint answers it from a viewset's `list` action.
@extend_schema_serializer(many=False)
class CatalogueStatisticsSerializer(serializers.Serializer):
    """Catalogue figures: prices as decimal strings (2 places), ratings as numbers.

    `stddev_price` is the population standard deviation of the prices.
    """

    book_count = serializers.IntegerField()
    total_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True
    )
    average_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )
    min_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )
    max_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )
    stddev_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )
    review_count = serializers.IntegerField()
    average_rating = serializers.FloatField(allow_null=True)
    by_year = YearStatisticsSerializer(many=True)
