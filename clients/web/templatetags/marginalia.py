"""Template filters of the sample client: prices and ratings in words."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


@register.filter
def money(amount: object) -> str:
    """`"12.50"` (the API's decimal string) as `€12.50`, in the configured currency."""
    if amount is None or amount == "":
        return "\N{EN DASH}"
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(amount)
    code = settings.BOOKSHELF_CLIENT.currency
    symbol = SYMBOLS.get(code)
    return f"{symbol}{value}" if symbol else f"{value} {code}"


@register.filter
def stars(rating: object) -> str:
    """A 1-5 rating as five stars, filled for the rating."""
    try:
        filled = max(0, min(5, int(rating)))
    except (TypeError, ValueError):
        return ""
    return "★" * filled + "☆" * (5 - filled)
