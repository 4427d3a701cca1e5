"""Catalogue list pages kept in the default cache until the catalogue changes.

A list page is the same for every reader allowed to see it (nothing in it depends
on who asks), so once authentication, scopes, permissions and throttles have let a
request through, its page can come from the cache: the serialized data, keyed by
the view, the API version, the query string, the media type and the origin (the
pagination links are absolute). Every key also holds the catalogue's current
generation, which changes whenever a book, author or review is saved or deleted.
Writes that bypass model signals (QuerySet.update, raw SQL) are seen within
`CATALOGUE_CACHE_SECONDS`.

With a shared cache (Redis, `CACHE_SHARED`) the generation is a random value kept
in the cache itself, replaced at once and again when the writing transaction
commits (so a reader racing the write cannot keep the old page under the new
generation): a page hit asks the database nothing.

Without one ("local mode": each process has its own memory cache, which another
process's write cannot reach) the generation is a counter row in the database
(`CatalogueGeneration`), moved by an UPDATE in the writing transaction and read by
every list request: one primary-key query per page hit. A reader reads the
generation before the page's rows, so rows older than the write are never kept
under the generation that follows it, and every process builds the page again on
its first request after the commit.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.request import Request

from common.counters import counter_advance, counter_read
from resources.models import Author, Book, CatalogueGeneration, Review

GENERATION_KEY = "catalogue:generation"
GENERATION_ROW = 1


def seconds() -> int:
    return settings.CATALOGUE_CACHE_SECONDS


def generation(request: Request | None = None) -> str:
    """The catalogue's current generation, made on first use.

    Read with the bearer token's lookup when the view asked for it ahead
    (`cache_reads_ahead`, resources/authentication.py): one round trip less.
    """
    if not settings.CACHE_SHARED:
        return str(counter_read(CatalogueGeneration, GENERATION_ROW))
    ahead = getattr(request, "cache_ahead", None) or {}
    current = ahead.get(GENERATION_KEY) or cache.get(GENERATION_KEY)
    if current is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        current = cache.get(GENERATION_KEY)
    return current or ""


def generation_replace() -> None:
    """Forget every cached page: the next read of each builds it again."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def page_key(view_name: str, request: Request) -> str:
    query = sorted(request.query_params.lists())
    parts = [
        view_name,
        str(request.version),
        str(request.accepted_media_type),
        request.build_absolute_uri("/"),
        repr(query),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"catalogue:page:{generation(request)}:{digest}"


@receiver(post_save, sender=Book, dispatch_uid="catalogue_changed_book_saved")
@receiver(post_delete, sender=Book, dispatch_uid="catalogue_changed_book_deleted")
@receiver(post_save, sender=Author, dispatch_uid="catalogue_changed_author_saved")
@receiver(post_delete, sender=Author, dispatch_uid="catalogue_changed_author_deleted")
@receiver(post_save, sender=Review, dispatch_uid="catalogue_changed_review_saved")
@receiver(post_delete, sender=Review, dispatch_uid="catalogue_changed_review_deleted")
def _catalogue_changed(**kwargs: object) -> None:
    if not seconds():
        return
    if not settings.CACHE_SHARED:
        counter_advance(CatalogueGeneration, GENERATION_ROW)
        return
    generation_replace()
    transaction.on_commit(generation_replace)
