"""Deleting expired tokens in short batches (`manage.py cleartokens`).

The same rows as DOT's `clear_expired` (oauth2_provider/models.py), in the same
order, plus device grants (DOT never deletes them) and our redeemed-code records.
DOT counts the remaining rows with a full scan before every batch; here each batch
selects at most `batch_size` primary keys through an indexed column (migration
0005), walking the primary key forward so rows that stay are not read twice, and
deletes them in a transaction of its own, re-checking the condition, so no lock is
held for long and a row that changed in between is left alone. Rows go by one
DELETE per batch, without loading them (`rows_delete`). On PostgreSQL, other
connections delete batches while this one picks the next (`sweep_delete`'s
`jobs`): PostgreSQL checks every foreign key pointing at a deleted row, row by
row, and that is most of the time.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_device_grant_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings

from oauth_server.models import RedeemedCode

logger = logging.getLogger(__name__)

# An expired device code is kept this long, so a device still polling after
# expiry is told `expired_token` (RFC 8628 §3.5), not `invalid_grant`.
DEVICE_GRANT_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class Sweep:
    """Rows of one model to delete: `condition` holds for every one of them."""

    label: str
    model: type[models.Model]
    condition: models.Q


def expired_token_sweeps(*, now: datetime) -> list[Sweep]:
    """What to delete, in DOT's order: refresh tokens before their access tokens."""
    access_token, refresh_token = get_access_token_model(), get_refresh_token_model()
    refresh_expire_at = None
    if delta := refresh_token_expire_timedelta():
        refresh_expire_at = now - delta
    refresh_revoked_at = now - _grace_period()
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        # A revoked (rotated) refresh token is what detects its replay and revokes
        # the family, so it stays until it would have expired anyway.
        refresh_revoked_at = refresh_expire_at

    sweeps = []
    if refresh_revoked_at:
        sweeps.append(
            Sweep(
                "refresh tokens, revoked",
                refresh_token,
                models.Q(revoked__lte=refresh_revoked_at),
            )
        )
    # Live, but their access token was deleted out of band: stale (DOT #746).
    sweeps.append(
        Sweep(
            "refresh tokens, orphaned",
            refresh_token,
            models.Q(revoked__isnull=True, access_token__isnull=True),
        )
    )
    if refresh_expire_at:
        # Idle expiry: the paired access token expired a refresh lifetime ago.
        sweeps.append(
            Sweep(
                "refresh tokens, expired",
                refresh_token,
                models.Q(
                    revoked__isnull=True, access_token__expires__lte=refresh_expire_at
                ),
            )
        )
    sweeps += [
        # An expired access token with a live refresh token stays: the refresh
        # token is tied to it (and deleting it would orphan the refresh token).
        Sweep(
            "access tokens",
            access_token,
            # DOT's `refresh_token__isnull=True`, as NOT EXISTS: PostgreSQL plans
            # the LEFT JOIN ... IS NULL form as a join that keeps every row (so
            # sorts the whole table for each batch); an anti-join walks the
            # primary key and stops at the batch size.
            models.Q(
                ~models.Exists(
                    refresh_token.objects.filter(access_token=models.OuterRef("pk"))
                ),
                expires__lt=now,
            ),
        ),
        Sweep(
            "ID tokens",
            get_id_token_model(),
            # `access_token__isnull=True`, as NOT EXISTS for the same reason.
            models.Q(
                ~models.Exists(
                    access_token.objects.filter(id_token=models.OuterRef("pk"))
                ),
                expires__lt=now,
            ),
        ),
        Sweep("grants", get_grant_model(), models.Q(expires__lt=now)),
        Sweep(
            "device grants",
            get_device_grant_model(),
            models.Q(expires__lt=now - DEVICE_GRANT_RETENTION),
        ),
        Sweep("redeemed codes", RedeemedCode, models.Q(expires__lte=now)),
    ]
    return sweeps


def _grace_period() -> timedelta:
    """REFRESH_TOKEN_GRACE_PERIOD_SECONDS as DOT's `clear_expired` validates it."""
    seconds = oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0
    try:
        grace = timedelta(seconds=seconds)
    except TypeError as exc:
        raise ImproperlyConfigured(
            "REFRESH_TOKEN_GRACE_PERIOD_SECONDS must be in seconds"
        ) from exc
    if grace < timedelta(0):
        raise ImproperlyConfigured(
            "REFRESH_TOKEN_GRACE_PERIOD_SECONDS must not be negative"
        )
    return grace


def batch_candidates(
    *, sweep: Sweep, after: object | None, batch_size: int
) -> models.QuerySet:
    """The primary keys of the next batch: past `after`, in primary-key order.

    One index range per batch (the primary key walked forward, or the sweep's
    column when few rows match, the planner's choice), and never a count.
    """
    candidates = sweep.model._default_manager.filter(sweep.condition)
    if after is not None:
        candidates = candidates.filter(pk__gt=after)
    return candidates.order_by("pk").values_list("pk", flat=True)[:batch_size]


def rows_delete(rows: models.QuerySet, *, first: object, last: object) -> int:
    """Delete `rows`, all with primary keys in [first, last], by one DELETE.

    Their dependents go first; returns how many rows went.

    Django's `QuerySet.delete()` loads every row and sends `post_delete` for each,
    which for access tokens tombstones the bearer cache: four cache round trips a
    token, for tokens past their expiry that no cache entry is trusted for
    (`token_is_live` judges every use). So the rows are not loaded and no signal
    is sent; what `on_delete` asks of the rows pointing at them is still done, in
    the caller's transaction. Every statement selects by condition or subquery,
    not by a list of keys (10,000 parameters cost PostgreSQL more than the
    deletion); when the condition joins another table, the key range bounds the
    outer table too, or the planner may hash-join the whole table against the
    subquery.
    """
    model, using = rows.model, rows.db
    keys = rows.values("pk")
    for relation in model._meta.related_objects:
        name = relation.field.name
        related = relation.related_model._base_manager.using(using).filter(
            **{f"{name}__gte": first, f"{name}__lte": last, f"{name}__in": keys}
        )
        if relation.on_delete is models.CASCADE:
            related.delete()
        elif relation.on_delete is models.SET_NULL:
            related.update(**{name: None})
        elif relation.on_delete is not models.DO_NOTHING:
            # PROTECT, RESTRICT, SET_DEFAULT...: the collector knows the rules.
            _, per_model = rows.delete()
            return per_model.get(model._meta.label, 0)
    query = rows.query
    if sum(query.alias_refcount[alias] > 0 for alias in query.alias_map) == 1:
        # The condition reads this table alone (NOT EXISTS subqueries are
        # their own): Django deletes by that condition directly, without
        # walking the range a second time for an IN list.
        return rows._raw_delete(using)
    connection = connections[using]
    quote = connection.ops.quote_name
    sql, params = keys.query.sql_with_params()
    pk = quote(model._meta.pk.column)
    table = quote(model._meta.db_table)
    # Names from the model, quoted; every value is a parameter.
    delete = f"DELETE FROM {table} WHERE {pk} >= %s AND {pk} <= %s AND {pk} IN ({sql})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(delete, [first, last, *params])
        return cursor.rowcount


def batch_delete(*, sweep: Sweep, first: object, last: object) -> int:
    """Delete the rows of `sweep` with primary keys in [first, last], in a
    transaction of their own; how many went.

    The same range and condition again, in the DELETE's own statement: a row that
    stopped matching since it was picked stays. No row lock first: locking writes
    every row once more, and what this deletes (expired, orphaned, long-revoked)
    can no longer be used, so nothing changes it.
    """
    batch = sweep.model._default_manager.filter(
        sweep.condition, pk__gte=first, pk__lte=last
    )
    with transaction.atomic(using=batch.db):
        count = rows_delete(batch, first=first, last=last)
    logger.debug("%s: %s deleted in a batch", sweep.label, count)
    return count


def batch_ranges(*, sweep: Sweep, batch_size: int):
    """Yield (first, last) primary keys of each batch, walking the keys forward."""
    after = None
    while True:
        candidates = batch_candidates(sweep=sweep, after=after, batch_size=batch_size)
        pks = list(candidates)
        if not pks:
            return
        yield pks[0], pks[-1]
        if len(pks) < batch_size:
            return
        after = pks[-1]


def sweep_delete(
    *, sweep: Sweep, batch_size: int, pause: float = 0, jobs: int = 1
) -> int:
    """Delete the rows of `sweep` in batches of at most `batch_size`; how many went.

    With `jobs` over 1 on PostgreSQL, that many connections delete batches side
    by side while this one picks the next: most of a batch's time is PostgreSQL
    checking, row by row, the foreign keys that point at the deleted rows, work
    one connection does on one core. Batches are disjoint key ranges, so they
    never wait on each other's locks.
    """
    if jobs > 1 and _parallel_possible(sweep.model):
        return _sweep_delete_parallel(
            sweep=sweep, batch_size=batch_size, pause=pause, jobs=jobs
        )
    deleted = 0
    for index, (first, last) in enumerate(
        batch_ranges(sweep=sweep, batch_size=batch_size)
    ):
        if index and pause:
            time.sleep(pause)
        deleted += batch_delete(sweep=sweep, first=first, last=last)
    return deleted


def _parallel_possible(model: type[models.Model]) -> bool:
    """Other connections see this one's rows: PostgreSQL, outside a transaction.

    Inside one (a caller's `atomic`, a test), other connections would not see
    its uncommitted rows; SQLite has one writer at a time anyway.
    """
    connection = connections[router.db_for_write(model)]
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _sweep_delete_parallel(
    *, sweep: Sweep, batch_size: int, pause: float, jobs: int
) -> int:
    """`sweep_delete` with `jobs` threads, each on a connection of its own."""
    ranges: queue.Queue = queue.Queue(maxsize=jobs)
    counts: list[int] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            while (batch := ranges.get()) is not None:
                if failures:
                    continue  # drain: the sweep stops at the first failure
                try:
                    counts.append(
                        batch_delete(sweep=sweep, first=batch[0], last=batch[1])
                    )
                except BaseException as exc:  # re-raised by the caller's thread
                    failures.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, daemon=True) for _ in range(jobs)]
    for worker in workers:
        worker.start()
    try:
        for index, batch in enumerate(batch_ranges(sweep=sweep, batch_size=batch_size)):
            if failures:
                break
            if index and pause:
                time.sleep(pause)
            ranges.put(batch)
    finally:
        for _ in workers:
            ranges.put(None)
        for worker in workers:
            worker.join()
    if failures:
        raise failures[0]
    return sum(counts)


def expired_tokens_clear(
    *, batch_size: int, pause: float = 0, jobs: int = 1, now: datetime | None = None
) -> list[tuple[str, int]]:
    """Delete every expired token, grant and record; (what, how many) per sweep."""
    now = now or timezone.now()
    results = []
    for sweep in expired_token_sweeps(now=now):
        count = sweep_delete(sweep=sweep, batch_size=batch_size, pause=pause, jobs=jobs)
        logger.info("cleartokens: %s %s deleted", count, sweep.label)
        results.append((sweep.label, count))
    return results
