"""factory_boy factories for users, applications and tokens."""

import secrets
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value

from oauth_server.developers import DEVELOPERS
from oauth_server.models import Application
from resources.validators import isbn13_check_digit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class DeveloperFactory(UserFactory):
    """A user in the developers group, who may use the developer portal."""

    @factory.post_generation
    def developers(obj, create, extracted, **kwargs):
        if create:
            # get_or_create: live_server tests flush the group the migration made.
            obj.groups.add(Group.objects.get_or_create(name=DEVELOPERS)[0])


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A confidential authorization-code app; `.cleartext_secret` keeps the secret."""

    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"App {n}")
    client_type = Application.CLIENT_CONFIDENTIAL
    authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    redirect_uris = "https://client.example/callback"
    post_logout_redirect_uris = "https://client.example/"
    allowed_scopes = "openid profile email books:read books:write"
    algorithm = factory.LazyAttribute(
        lambda a: (
            Application.RS256_ALGORITHM if "openid" in a.allowed_scopes.split() else ""
        )
    )
    client_secret = factory.LazyFunction(lambda: secrets.token_urlsafe(32))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        secret = kwargs.get("client_secret", "")
        if kwargs.get("client_type") == Application.CLIENT_PUBLIC:
            kwargs["client_secret"] = secret = ""
        app = model_class(*args, **kwargs)
        app.full_clean()
        app.save()
        app.cleartext_secret = secret
        return app


class AccessTokenFactory(factory.django.DjangoModelFactory):
    """An access token; `.cleartext` is the bearer value (stored only hashed)."""

    class Meta:
        model = get_access_token_model()

    user = factory.SubFactory(UserFactory)
    application = factory.SubFactory(ApplicationFactory)
    scope = "books:read"
    expires = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token = model_class(*args, **kwargs)
        raw = secrets.token_urlsafe(30)
        set_token_value(token, raw)
        token.save()
        token.cleartext = raw
        return token


# --- Resource API ----------------------------------------------------------------------


def isbn13(n: int) -> str:
    """A valid ISBN-13 (978 prefix, right check digit) made from a number."""
    first12 = f"978{n:09d}"
    return first12 + isbn13_check_digit(first12)


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Author"

    name = factory.Sequence(lambda n: f"Author {n}")
    birth_date = date(1950, 1, 1)
    biography = "Writes books."


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Book"

    title = factory.Sequence(lambda n: f"Book {n}")
    author = factory.SubFactory(AuthorFactory)
    publication_date = date(2001, 5, 17)
    price = Decimal("12.50")
    isbn = factory.Sequence(isbn13)
    summary = "A book."


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Review"

    book = factory.SubFactory(BookFactory)
    user = factory.SubFactory(UserFactory)
    rating = 4
    text = "Good."


def expire_access_tokens(**filters) -> None:
    """Move access tokens' expiry into the past, as time would.

    A bulk update sends no model signal, so the shared bearer cache (Redis in the
    PostgreSQL leg) is told here, as the server is told of any change it makes.
    """
    from oauth_server import token_cache

    tokens = get_access_token_model().objects.filter(**filters)
    checksums = list(tokens.values_list("token_checksum", flat=True))
    tokens.update(expires=timezone.now() - timedelta(minutes=1))
    token_cache.access_tokens_forget(checksums)


def admin_application_form(**overrides: str) -> dict[str, str]:
    """A valid POST of the admin's "Add application" form, with `overrides`."""
    return {
        "name": "Partner",
        "client_id": "partner",
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "client_secret": "s" * 40,
        "hash_client_secret": "on",
        "redirect_uris": "https://partner.example/cb",
        "post_logout_redirect_uris": "",
        "allowed_origins": "",
        "allowed_scopes": "openid books:read",
        "algorithm": "RS256",
        "contacts": "",
        "is_active": "on",
        **overrides,
    }
