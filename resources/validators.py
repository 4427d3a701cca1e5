"""Field rules shared by the models (full_clean) and the serializers."""

import re

from django.core.exceptions import ValidationError
from django.utils import timezone

_ISBN_SEPARATORS = re.compile(r"[\s-]")


def normalize_isbn(value: str) -> str:
    """The ISBN without hyphens or spaces (how it is stored)."""
    return _ISBN_SEPARATORS.sub("", value or "")


def validate_isbn13(value: str) -> None:
    """An ISBN-13: 13 digits (hyphens allowed) whose check digit is right."""
    digits = normalize_isbn(value)
    if len(digits) != 13 or not digits.isdigit():
        raise ValidationError(
            "Enter an ISBN-13: 13 digits, hyphens allowed.", code="invalid_isbn"
        )
    # ISBN-13 check digit: weights alternate 1, 3; the sum is a multiple of 10.
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    if total % 10:
        raise ValidationError(
            "This ISBN-13 has a wrong check digit.", code="isbn_checksum"
        )


def validate_not_in_future(value) -> None:
    """A date that is today or earlier."""
    if value and value > timezone.localdate():
        raise ValidationError("The date cannot be in the future.", code="future_date")
