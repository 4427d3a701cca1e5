"""Authors, books and reader reviews."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from resources.validators import (
    normalize_isbn,
    validate_isbn13,
    validate_not_in_future,
    validate_published_after_birth,
)


class Author(models.Model):
    """A person who wrote books in the catalogue."""

    name = models.CharField(max_length=200)
    birth_date = models.DateField(
        null=True, blank=True, validators=[validate_not_in_future]
    )
    biography = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "birth_date",
                name="author_unique_name_birth_date",
                violation_error_message=(
                    "An author with this name and birth date already exists."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    """A book: one author, a unique ISBN-13, a price that is never negative."""

    title = models.CharField(max_length=300)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")
    publication_date = models.DateField(validators=[validate_not_in_future])
    price = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    isbn = models.CharField(
        "ISBN-13", max_length=13, unique=True, validators=[validate_isbn13]
    )
    summary = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="books_created",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-publication_date", "-pk"]
        permissions = [
            ("can_read_book", "Can read books and reviews"),
            ("can_edit_book", "Can add, change and delete books"),
        ]
        indexes = [
            models.Index(fields=["-publication_date", "-id"], name="book_pubdate_idx"),
            models.Index(
                fields=["author", "-publication_date"], name="book_author_idx"
            ),
            models.Index(Lower("title"), name="book_title_lower_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="book_price_not_negative"
            ),
            models.UniqueConstraint(
                "author",
                Lower("title"),
                name="book_unique_title_per_author",
                violation_error_message=(
                    "This author already has a book with this title."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        self.isbn = normalize_isbn(self.isbn)
        if self.author_id:
            validate_published_after_birth(
                publication_date=self.publication_date,
                birth_date=self.author.birth_date,
            )


class Review(models.Model):
    """One reader's rating (1-5) and text for one book."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="book_reviews"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(blank=True, max_length=10_000)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["book", "-created"], name="review_book_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["book", "user"], name="review_one_per_user_and_book"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5),
                name="review_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.book} by {self.user}"


class CatalogueGeneration(models.Model):
    """How many times the catalogue changed; one row, the version of cached pages.

    Without a shared cache each process keeps its own list pages under this value,
    read on every list request; every book, author or review write moves it in
    its own transaction (resources/list_cache.py).
    """

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalogue generation {self.value}"
