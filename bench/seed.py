"""Seed the benchmark's database and print the credentials the load needs (JSON).

Run by `bench/run.py` with the same environment as the server, after `migrate`.
"""

import hashlib
import json
import secrets
import sys
from datetime import date, timedelta
from decimal import Decimal
from importlib import import_module

import django


def isbn13(n: int) -> str:
    first12 = f"978{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def main(refresh_count: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from oauth2_provider.models import (
        get_access_token_model,
        get_refresh_token_model,
        set_token_value,
    )

    from oauth_server import auth_time, services
    from resources import groups
    from resources.models import Author, Book, Review

    user = get_user_model().objects.create_user("bench-reader", password=None)
    user.groups.add(Group.objects.get(name=groups.READERS))
    web = services.application_register(
        name="bench-web",
        client_type="confidential",
        grant_type="authorization-code",
        scope="openid profile books:read",
        redirect_uris=["https://client.example/callback"],
    )
    machine = services.application_register(
        name="bench-machine",
        client_type="confidential",
        grant_type="client-credentials",
        scope="books:read",
    )
    introspector = services.application_register(
        name="bench-introspector",
        client_type="confidential",
        grant_type="client-credentials",
        scope="introspection",
    )
    for n in range(10):
        author = Author.objects.create(name=f"Author {n}", birth_date=date(1950, 1, 1))
        book = Book.objects.create(
            title=f"Book {n}",
            author=author,
            publication_date=date(2000 + n, 1, 1),
            price=Decimal("12.50"),
            isbn=isbn13(n),
            summary="A book.",
            created_by=user,
        )
        for i, rating in enumerate((3, 4, 5)):
            reviewer = get_user_model().objects.create_user(f"reviewer-{n}-{i}")
            Review.objects.create(book=book, user=reviewer, rating=rating, text="Ok.")

    access_model, refresh_model = get_access_token_model(), get_refresh_token_model()
    expires = timezone.now() + timedelta(hours=2)

    # The code flow: a signed-in session, and consent on record for the SPA's scopes
    # (remembered consent, as after the person once pressed Allow).
    spa = services.application_register(
        name="bench-spa",
        client_type="confidential",
        grant_type="authorization-code",
        scope="openid books:read",
        redirect_uris=["https://client.example/callback"],
    )
    services.consent_remember(
        user=user, application=spa.application, scopes=["openid", "books:read"]
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[auth_time.SESSION_KEY] = auth_time.now()
    session.create()

    def access_token(scope: str) -> tuple[object, str]:
        raw = secrets.token_urlsafe(30)
        token = access_model(
            user=user,
            application=web.application,
            scope=scope,
            expires=expires,
            token_checksum=hashlib.sha256(raw.encode()).hexdigest(),
        )
        set_token_value(token, raw)
        return token, raw

    bearer, bearer_raw = access_token("openid profile books:read")
    bearer.save()
    # Refresh tokens, each used once: one access token + refresh token per use.
    pairs = [access_token("openid profile books:read") for _ in range(refresh_count)]
    access_model.objects.bulk_create([token for token, _ in pairs], batch_size=1000)
    saved = access_model.objects.filter(
        token_checksum__in=[token.token_checksum for token, _ in pairs]
    ).in_bulk(field_name="token_checksum")
    refresh_raw = []
    refresh_rows = []
    for token, _ in pairs:
        raw = secrets.token_urlsafe(30)
        row = refresh_model(
            user=user,
            application=web.application,
            access_token=saved[token.token_checksum],
            token_checksum=hashlib.sha256(raw.encode()).hexdigest(),
        )
        set_token_value(row, raw)
        refresh_rows.append(row)
        refresh_raw.append(raw)
    refresh_model.objects.bulk_create(refresh_rows, batch_size=1000)
    return {
        "bearer": bearer_raw,
        "web": [web.application.client_id, web.client_secret],
        "machine": [machine.application.client_id, machine.client_secret],
        "introspector": [
            introspector.application.client_id,
            introspector.client_secret,
        ],
        "spa": [spa.application.client_id, spa.client_secret],
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "session": session.session_key,
        "refresh_tokens": refresh_raw,
    }


if __name__ == "__main__":
    django.setup()
    json.dump(main(int(sys.argv[1])), sys.stdout)
