"""Field rules shared by the models (full_clean) and the serializers."""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

_ISBN_SEPARATORS = re.compile(r"[\s-]")
# C0 controls but tab, newline and carriage return; DEL; lone surrogates.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def normalize_isbn(value: str) -> str:
    """The ISBN without hyphens or spaces (how it is stored)."""
    return _ISBN_SEPARATORS.sub("", value or "")


def isbn13_check_digit(first12: str) -> str:
    """The ISBN-13 check digit of twelve digits.

    Weights alternate 1, 3; the check digit makes the sum a multiple of 10.
    """
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def validate_isbn13(value: str) -> None:
    """An ISBN-13: 13 digits (hyphens allowed) whose check digit is right."""
    digits = normalize_isbn(value)
    if len(digits) != 13 or not digits.isdigit():
        raise ValidationError(
            "Enter an ISBN-13: 13 digits, hyphens allowed.", code="invalid_isbn"
        )
    if digits[12] != isbn13_check_digit(digits[:12]):
        raise ValidationError(
            "This ISBN-13 has a wrong check digit.", code="isbn_checksum"
        )


def validate_published_after_birth(
    *, publication_date: date | None, birth_date: date | None
) -> None:
    """No book appears before its author was born."""
    if publication_date and birth_date and publication_date < birth_date:
        raise ValidationError(
            {"publication_date": "A book cannot appear before its author's birth."},
            code="before_birth",
        )


def validate_not_in_future(value) -> None:
    """A date that is today or earlier."""
    if value and value > timezone.localdate():
        raise ValidationError("The date cannot be in the future.", code="future_date")


def validate_plain_text(value: str) -> None:
    """Text without control characters (tab, newline and carriage return are fine).

    XML 1.0 cannot carry them, so one stored title would break every XML reader
    of it; they also hide text from people reading it. NUL is refused too
    (PostgreSQL cannot store it), and lone surrogates (no encoding can).
    """
    if value and _CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            "Control characters are not allowed (tab, newline and carriage return are).",
            code="control_characters",
        )
