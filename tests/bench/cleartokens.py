"""Benchmark: `cleartokens` against DOT's `clear_expired` on the same rows.

Seeds a throw-away test database (`DATABASE_URL`'s server, or SQLite) with expired
access tokens, and expired access tokens whose refresh tokens are still live (kept by
both), then times each clean-up on identical data, each in a fresh database:
`make bench`. The gain is in locking, not speed: cleartokens holds each batch's locks
for one short transaction and never counts the table. The two times are close, and
whichever runs first tends to be faster on a busy machine; compare several runs.
"""

import os
import time
import uuid
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.db import connection
from django.test.utils import setup_test_environment
from django.utils import timezone
from oauth2_provider.models import (
    clear_expired,
    get_access_token_model,
    get_refresh_token_model,
)

from oauth_server.cleanup import expired_tokens_clear
from tests.factories import ApplicationFactory, UserFactory

EXPIRED = int(os.environ.get("BENCH_EXPIRED_TOKENS", "100000"))
REFRESHABLE = int(os.environ.get("BENCH_REFRESHABLE_TOKENS", "20000"))
BATCH = 10_000
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


def seed(app, user) -> None:
    """EXPIRED deletable access tokens, then REFRESHABLE pairs that must stay."""
    now = timezone.now()
    tokens = [
        AccessToken(
            token="",
            token_checksum=uuid.uuid4().hex * 2,
            expires=now - timedelta(hours=1),
            application=app,
            user=user,
            scope="books:read",
        )
        for _ in range(EXPIRED + REFRESHABLE)
    ]
    AccessToken.objects.bulk_create(tokens, batch_size=5000)
    bound = AccessToken.objects.order_by("-pk")[:REFRESHABLE]
    RefreshToken.objects.bulk_create(
        (
            RefreshToken(
                token="",
                token_checksum=uuid.uuid4().hex * 2,
                access_token=token,
                application=app,
                user=user,
                token_family=uuid.uuid4(),
            )
            for token in bound
        ),
        batch_size=5000,
    )


def timed(label: str, clean) -> None:
    start = time.perf_counter()
    clean()
    seconds = time.perf_counter() - start
    left = AccessToken.objects.count()
    print(f"{label:<28} {seconds:6.2f} s  ({left} access tokens left)")
    assert left == REFRESHABLE


def run(label: str, clean) -> None:
    """Seed a fresh test database, clean it with `clean`, print the time."""
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        seed(ApplicationFactory(name="bench"), UserFactory(username="bench"))
        timed(label, clean)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def main() -> None:
    setup_test_environment()
    print(
        f"{connection.vendor}: {EXPIRED} expired access tokens, "
        f"{REFRESHABLE} expired ones with a live refresh token"
    )
    run(
        f"cleartokens --batch-size {BATCH}",
        lambda: expired_tokens_clear(batch_size=BATCH),
    )
    run("DOT clear_expired", clear_expired)


if __name__ == "__main__":
    main()
