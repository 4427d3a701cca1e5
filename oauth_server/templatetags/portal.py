"""Template filters of the account area's navigation."""

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from oauth_server import developers

register = template.Library()


@register.filter
def is_developer(user: AbstractBaseUser | AnonymousUser) -> bool:
    """`{% if user|is_developer %}`: whether the developer portal is theirs."""
    return developers.is_developer(user)
