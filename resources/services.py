"""Writes: atomic, validated with full_clean(), raising Django ValidationError."""

import logging
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from resources.models import Author, Book, Review

logger = logging.getLogger(__name__)

BOOK_FIELDS = ("title", "author", "publication_date", "price", "isbn", "summary")
AUTHOR_CONFLICT = {"name": "An author with this name and birth date already exists."}
BOOK_CONFLICT = {
    "non_field_errors": "A book with this ISBN, or this title by this author, "
    "already exists."
}


def _save_validated(instance: Author | Book, *, conflict: dict[str, str]) -> None:
    """Save `instance` (already `full_clean`ed) in a savepoint.

    A concurrent write can take a unique value between `full_clean` and the
    INSERT or UPDATE: the database refuses it, and that is a ValidationError saying
    which value is taken (checked again now the other row is visible), else
    `conflict`, never an IntegrityError (a 500).
    """
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        instance.validate_unique()
        instance.validate_constraints()
        raise ValidationError(conflict) from exc


@transaction.atomic
def author_create(
    *, name: str, birth_date: date | None = None, biography: str = ""
) -> Author:
    """Create an author."""
    author = Author(name=name.strip(), birth_date=birth_date, biography=biography)
    author.full_clean()
    _save_validated(author, conflict=AUTHOR_CONFLICT)
    logger.info("author created id=%s", author.pk)
    return author


@transaction.atomic
def author_update(*, author: Author, **fields: object) -> Author:
    """Change an author's fields."""
    for name, value in fields.items():
        setattr(author, name, value)
    author.full_clean()
    _save_validated(author, conflict=AUTHOR_CONFLICT)
    return author


@transaction.atomic
def author_delete(*, author: Author) -> None:
    """Delete an author who has no books in the catalogue."""
    if author.books.exists():
        raise ValidationError("Delete or reassign this author's books first.")
    logger.info("author deleted id=%s", author.pk)
    author.delete()


@transaction.atomic
def book_create(
    *,
    created_by: AbstractBaseUser | None,
    title: str,
    author: Author,
    publication_date: date,
    price: Decimal,
    isbn: str,
    summary: str = "",
) -> Book:
    """Create a book, recording who created it."""
    book = Book(
        title=title.strip(),
        author=author,
        publication_date=publication_date,
        price=price,
        isbn=isbn,
        summary=summary,
        created_by=created_by,
    )
    book.full_clean()
    _save_validated(book, conflict=BOOK_CONFLICT)
    logger.info("book created id=%s user=%s", book.pk, getattr(created_by, "pk", None))
    return book


@transaction.atomic
def book_update(*, book: Book, **fields: object) -> Book:
    """Change a book's fields (only those named in BOOK_FIELDS)."""
    for name, value in fields.items():
        if name not in BOOK_FIELDS:
            raise ValidationError({name: "This field cannot be changed."})
        setattr(book, name, value)
    book.full_clean()
    _save_validated(book, conflict=BOOK_CONFLICT)
    return book


@transaction.atomic
def book_delete(*, book: Book) -> None:
    """Delete a book and its reviews."""
    logger.info("book deleted id=%s", book.pk)
    book.delete()


@transaction.atomic
def review_create(
    *, book: Book, user: AbstractBaseUser, rating: int, text: str = ""
) -> Review:
    """Add the user's review of a book; a second review of the same book is refused."""
    review = Review(book=book, user=user, rating=rating, text=text.strip())
    if Review.objects.filter(book=book, user=user).exists():
        raise ValidationError(
            {"non_field_errors": ["You have already reviewed this book."]},
            code="duplicate_review",
        )
    review.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError as exc:  # two concurrent first reviews
        raise ValidationError(
            {"non_field_errors": ["You have already reviewed this book."]}
        ) from exc
    logger.info("review created id=%s book=%s user=%s", review.pk, book.pk, user.pk)
    return review


@transaction.atomic
def review_update(
    *, review: Review, rating: int | None = None, text: str | None = None
) -> Review:
    """Change the rating or text of a review."""
    if rating is not None:
        review.rating = rating
    if text is not None:
        review.text = text.strip()
    review.full_clean(validate_unique=False, validate_constraints=False)
    review.save()
    return review
