"""Bearer-token lookups kept in the cache, forgotten the moment they go stale.

The resource API and userinfo look a bearer token up by its checksum on every
request. The token, its application and its user (with the user's permissions
already read) are kept in Django's default cache, Redis in production, so a warm
request asks the database nothing; `token_is_live` still judges every use, so
expiry needs no invalidation. Without Redis see "Local mode" below.

Whatever can make a cached token wrong, revocation (the token row deleted or
changed), an application or user saved (deactivated), a user's groups or
permissions changed, replaces its entry with a tombstone before and after the
write commits. A tombstone sends lookups to the database, and entries are only
ever written with `add`, so a request that read the row before the write cannot
put the stale token back. Every process shares the cache, so every process sees
the revocation on its next request.

A tombstone can be lost: `ops.cache.TolerantRedisCache` drops writes while Redis
is unreachable, and when Redis answers again it still holds the entries cached
before, live tokens that are now revoked. So each tombstone write is read back,
and a write that did not land moves the *epoch*, one database row
(`BearerCacheEpoch`), in the revoking transaction: durable, atomic with the
revocation, and cheap because it happens only when the cache was unreachable.
Every entry carries the epoch of the database snapshot it was read from (the
same query), and an entry older than the current epoch is not trusted.

Readers learn the epoch without a query per request: it is kept in the cache
too, under a lease of `bearer_cache_epoch_seconds` (1 s), read in the same round
trip as the entry. When the lease is missing, the next lookup in any process reads
the row (one query per lease for all processes) and adds it back. A lease in the
cache was read from the database before the revocation committed, so every
process refuses the token at most one lease after that commit: on its first
request after Redis returns if Redis was away longer than that. The revoking
process also remembers the epoch it committed and trusts no lease below it, so it
refuses the token on its very next request, and replaces the stale lease for the
others. Entries older than the epoch are not overwritten (only `add` writes
entries, so a concurrent tombstone is never lost); lookups of those tokens go to
the database until the entries expire, at most `bearer_cache_seconds` later.

Why not the other designs: flushing every bearer entry when a process sees Redis
return leaves a window in which a process that never saw the outage serves the
stale entry, and needs someone to notice the return; a per-user, per-application
and per-token generation in the key needs a database read per request to learn
the generations. A process-local copy of the epoch would cost a query per second
per process instead of one for the cluster.

Local mode (`CACHE_SHARED` off: no Redis, each process has its own local-memory
cache, as each gunicorn worker does): a tombstone written in one process never
reaches the others, so none is written. Every invalidation above moves the epoch
row instead, in the revoking transaction, and every lookup reads the row (one
primary-key query through the cursor, no lease: a lease in a process's own cache
would tell the other processes nothing). An entry is trusted only if it was read
at the epoch the row holds now, so every process refuses a revoked token on its
next request after the commit. A hit costs that one query; a miss one too (the
token with the epoch of the same snapshot, as above), and its entry is written
with `set`, as the epoch alone guards it. The price: any revocation, deactivation
or permission change distrusts every entry of every process, so each cached token
is read again once per process after it (the epoch, then the token: two queries).
Issuing tokens moves nothing. Moving the row serializes revoking transactions on
it, which SQLite, the usual local-mode database, does anyway.

Prefetch (shared mode): an endpoint that looks up a client and a token per request
(introspection) names both in a `prefetched` block, and their first lookups share
one round trip: the two entries and the lease, read together on the first of them.
Each entry so read answers one lookup, judged by the rules above as if read then;
the block ends with the request and belongs to its context (thread or task). A
lease this process cannot trust, or a tombstone or epoch write in the block, drops
what is left, so later lookups read the cache afresh.
"""

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    get_access_token_model,
    get_application_model,
)

from common.counters import counter_advance, counter_read
from oauth_server.conf import server_settings
from oauth_server.models import BearerCacheEpoch

logger = logging.getLogger(__name__)

KEY = "bearer:%s"
CLIENT_KEY = "bearer:client:%s"  # an application by the checksum of its client_id
EPOCH_KEY = "bearer:epoch"
TOMBSTONE = "forgotten"
BATCH = 1000
EPOCH_ROW = 1


class KnownEpoch:
    """The highest epoch this process saw committed; it never goes down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def raise_to(self, epoch: int) -> int:
        with self._lock:
            self.value = max(self.value, epoch)
            return self.value


_known_epoch = KnownEpoch()


def _epoch_column() -> Coalesce:
    row = BearerCacheEpoch.objects.filter(pk=EPOCH_ROW).values("value")[:1]
    return Coalesce(Subquery(row), Value(0))


def _load(checksum: str, *, epoch: bool = False) -> AbstractAccessToken | None:
    """The token row; with `epoch`, the epoch of the same snapshot (`cache_epoch`).

    Its application, user and delegation (RFC 8693, for introspection's `act`)
    are joined. The checksum is unique: no ORDER BY, which would make PostgreSQL
    walk the primary key instead of the checksum index.
    """
    tokens = get_access_token_model().objects.select_related(
        "application", "user", "delegation"
    )
    if epoch:
        tokens = tokens.annotate(cache_epoch=_epoch_column())
    return next(iter(tokens.filter(token_checksum=checksum).order_by()[:1]), None)


def _epoch_read() -> int:
    return counter_read(BearerCacheEpoch, EPOCH_ROW)


def _lease_store(epoch: int, leased: int | None) -> None:
    """Lend `epoch` to every process; replace a lease older than this one."""
    if leased is not None and leased < epoch:
        cache.delete(EPOCH_KEY)
    timeout = server_settings().bearer_cache_epoch_seconds
    cache.add(EPOCH_KEY, epoch, timeout=timeout)


def access_token_get(
    *, checksum: str, ahead: object = None
) -> AbstractAccessToken | None:
    """The access token with this checksum, its application and user joined.

    `ahead`: what to do in the same round trip as the lookup, an object with
    `counters` ((key, timeout) pairs to count) and `reads` (keys to read), whose
    `counts` and `found` the lookup then sets. Only a shared cache that can
    (`get_many_incr`) does; otherwise both stay None and the caller does each
    itself (resources.authentication.LookupAhead).
    """
    seconds = server_settings().bearer_cache_seconds
    if seconds <= 0:
        return _load(checksum)
    return _cached(
        KEY % checksum,
        load=lambda: _load(checksum, epoch=True),
        store=_store,
        seconds=seconds,
        ahead=ahead,
    )


def _read_with_epoch(key: str, ahead: object = None) -> dict:
    """The entry and the epoch lease, with `ahead`'s work in the same call."""
    if ahead is None or not hasattr(cache, "get_many_incr"):
        return cache.get_many([key, EPOCH_KEY])
    reads = list(ahead.reads)
    found, counts = cache.get_many_incr([key, EPOCH_KEY, *reads], ahead.counters)
    ahead.counts = counts if ahead.counters else None
    ahead.found = {read: found[read] for read in reads if read in found}
    return found


class _Prefetch:
    """The entries a `prefetched` block may answer from, read on first use."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.pending = set(keys)
        self.found: dict | None = None


_prefetch: ContextVar[_Prefetch | None] = ContextVar(
    "token_cache_prefetch", default=None
)


@contextmanager
def prefetched(
    *, client_id: str | None = None, token: str | None = None
) -> Iterator[None]:
    """Within the block, the first lookups of this client (`application_get`) and
    this access token (`access_token_get`) cost one cache round trip together.

    Shared mode only, and only with the cache on; values that name nothing (None,
    empty, not a string) are left out, and nothing here raises for them.
    """
    keys = []
    if settings.CACHE_SHARED and server_settings().bearer_cache_seconds > 0:
        if isinstance(client_id, str) and client_id:
            keys.append(CLIENT_KEY % checksum_of(client_id))
        if isinstance(token, str) and token:
            keys.append(KEY % checksum_of(token))
    if not keys:
        yield
        return
    previous = _prefetch.set(_Prefetch(keys))
    try:
        yield
    finally:
        _prefetch.reset(previous)


def _prefetched(key: str) -> dict | None:
    """`key`'s entry and the lease, as the enclosing block read them; once per key."""
    state = _prefetch.get()
    if state is None or key not in state.pending:
        return None
    state.pending.discard(key)
    if state.found is None:
        state.found = cache.get_many([*state.keys, EPOCH_KEY])
    return {key: state.found.get(key), EPOCH_KEY: state.found.get(EPOCH_KEY)}


def _prefetch_drop() -> None:
    """Later lookups of the enclosing block read the cache, not the prefetch."""
    state = _prefetch.get()
    if state is not None:
        state.pending.clear()


def _cached(
    key: str, *, load: Callable, store: Callable, seconds: int, ahead: object = None
):
    """The row cached under `key` if it may be trusted, else `load()`ed and cached.

    `load()` reads the row with the epoch of the same snapshot (`cache_epoch`);
    `store(key, epoch, row, seconds, write=...)` writes its entry. Local mode: an
    entry is trusted only at the epoch the database has now, and is replaced with
    `set` (the epoch read with the row, not a tombstone, guards it). Shared mode:
    trusted at the leased epoch, and written with `add` only where there was no
    entry, so a tombstone or an entry of an older epoch stays until it expires.
    `ahead` rides in the shared mode's read (`access_token_get`).
    """
    if not settings.CACHE_SHARED:
        cached = cache.get(key)
        # Equal, not at least: a row restored lower distrusts what was cached above it.
        if isinstance(cached, tuple) and cached[0] == _epoch_read():
            return cached[1]
        row = load()
        if row is not None:
            store(key, row.__dict__.pop("cache_epoch"), row, seconds, write=cache.set)
        return row
    found = _prefetched(key)
    if found is None:
        found = _read_with_epoch(key, ahead)
    cached, leased = found.get(key), found.get(EPOCH_KEY)
    trusted = leased is not None and leased >= _known_epoch.value
    if not trusted:
        _prefetch_drop()  # a prefetched lease is as untrusted as this one
    if isinstance(cached, tuple):
        epoch = leased
        if not trusted:  # no lease, or one older than this process knows
            epoch = _known_epoch.raise_to(_epoch_read())
            _lease_store(epoch, leased)
            trusted = True
        if cached[0] >= epoch:
            return cached[1]
    row = load()
    if row is None:
        return None
    epoch = row.__dict__.pop("cache_epoch")
    if not trusted:
        _lease_store(_known_epoch.raise_to(epoch), leased)
    if cached is None:  # unknown: not forgotten a moment ago, not of an older epoch
        store(key, epoch, row, seconds, write=cache.add)
    return row


def _store(
    key: str,
    epoch: int,
    token: AbstractAccessToken,
    seconds: int,
    *,
    write: Callable[..., object],
) -> None:
    """Cache an unexpired token with its user's permissions, for at most `seconds`."""
    lifetime = int((token.expires - timezone.now()).total_seconds())
    if lifetime > 0:
        if token.user is not None:
            token.user.get_all_permissions()  # read once, kept with the user
        write(key, (epoch, token), timeout=min(seconds, lifetime))


def application_get(*, client_id: str):
    """The application with this client_id, from the cache when it is trusted.

    Client authentication at the token, introspection and revocation endpoints
    reads the application on every request; its row changes only when it is
    saved (edited, secret rotated, deactivated) or deleted, and then its entry is
    forgotten like a revoked token's, under the same epoch (`_application_forget`).
    None when the cache is off or no such application exists: the caller asks the
    database (DOT's own lookup, which also answers metadata-document client ids).
    """
    seconds = server_settings().bearer_cache_seconds
    if seconds <= 0:
        return None
    return _cached(
        CLIENT_KEY % checksum_of(client_id),
        load=lambda: _application_load(client_id),
        store=_application_store,
        seconds=seconds,
    )


def _application_store(key: str, epoch: int, application, seconds: int, *, write):
    write(key, (epoch, application), timeout=seconds)


def _application_load(client_id: str):
    """The application row with the epoch of the same snapshot (`cache_epoch`)."""
    applications = get_application_model().objects.annotate(cache_epoch=_epoch_column())
    return next(iter(applications.filter(client_id=client_id).order_by()[:1]), None)


def checksum_of(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def access_tokens_forget(checksums: Iterable[str]) -> None:
    """Tombstone these tokens' entries now and again when the transaction commits."""
    seconds = server_settings().bearer_cache_seconds
    if seconds <= 0:
        return
    tombstones = {KEY % checksum: TOMBSTONE for checksum in checksums if checksum}
    if not tombstones:
        return
    if not settings.CACHE_SHARED:
        # Local mode: other processes' caches cannot be reached; with this
        # transaction every process's next lookup reads the new epoch.
        counter_advance(BearerCacheEpoch, EPOCH_ROW)
        return
    _tombstone(tombstones, seconds)
    transaction.on_commit(lambda: _tombstone(tombstones, seconds))


def _tombstone(tombstones: dict[str, str], seconds: int) -> None:
    _prefetch_drop()  # what was read before this write may be stale now
    cache.set_many(tombstones, timeout=seconds)
    # A cache that drops writes while unreachable returns nothing to say so.
    if cache.get_many(list(tombstones)) != tombstones:
        _epoch_advance()


def _epoch_advance() -> None:
    """Distrust every cached entry: a tombstone did not reach the cache."""
    counter_advance(BearerCacheEpoch, EPOCH_ROW)
    epoch = _epoch_read()
    logger.warning("token cache missed a revocation; cache epoch now %s", epoch)
    transaction.on_commit(lambda: _epoch_committed(epoch))


def _epoch_committed(epoch: int) -> None:
    _prefetch_drop()
    _known_epoch.raise_to(epoch)
    cache.delete(EPOCH_KEY)  # if the cache answers, other processes re-read the row


def _live_checksums(**filters: object) -> Iterable[str]:
    """Checksums of unexpired access tokens matching `filters`, in batches."""
    queryset = (
        get_access_token_model()
        .objects.filter(expires__gt=timezone.now(), **filters)
        .values_list("token_checksum", flat=True)
    )
    return queryset.iterator(chunk_size=BATCH)


def _forget_in_batches(checksums: Iterable[str]) -> None:
    batch: list[str] = []
    for checksum in checksums:
        batch.append(checksum)
        if len(batch) == BATCH:
            access_tokens_forget(batch)
            batch = []
    access_tokens_forget(batch)


# --- What makes an entry stale ----------------------------------------------------


def _token_changed(sender, instance, **kwargs) -> None:
    if not kwargs.get("created"):
        access_tokens_forget([instance.token_checksum])


def _application_saved(sender, instance, created: bool = False, **kwargs) -> None:
    # A new application has no entry yet (absent ones are not cached).
    if not created:
        _application_forget(instance.client_id)
        _forget_in_batches(_live_checksums(application_id=instance.pk))


def _application_changing(sender, instance, update_fields=None, **kwargs) -> None:
    # The entry is keyed by client_id: a changed client_id leaves the old one's.
    if instance.pk is None or (
        update_fields is not None and "client_id" not in update_fields
    ):
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("client_id", flat=True)
    previous = next(iter(stored), None)
    if previous and previous != instance.client_id:
        _application_forget(previous)


def _application_deleted(sender, instance, **kwargs) -> None:
    _application_forget(instance.client_id)


def _application_forget(client_id: str) -> None:
    """Tombstone the application's own entry, now and when the write commits."""
    seconds = server_settings().bearer_cache_seconds
    if seconds <= 0 or not client_id:
        return
    if not settings.CACHE_SHARED:
        counter_advance(BearerCacheEpoch, EPOCH_ROW)  # as access_tokens_forget
        return
    tombstones = {CLIENT_KEY % checksum_of(client_id): TOMBSTONE}
    _tombstone(tombstones, seconds)
    transaction.on_commit(lambda: _tombstone(tombstones, seconds))


def _user_saved(sender, instance, created: bool = False, update_fields=None, **kw):
    # Signing in stamps last_login, which no cached check reads.
    if created or (update_fields is not None and set(update_fields) == {"last_login"}):
        return
    _forget_in_batches(_live_checksums(user_id=instance.pk))


def _user_access_changed(sender, instance, action: str, reverse: bool, pk_set, **kw):
    # pre_clear: the rows that say who is affected are gone after the clear.
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if isinstance(instance, get_user_model()):
        user_ids = [instance.pk]
    elif isinstance(instance, Group) and sender is Group.permissions.through:
        user_ids = list(instance.user_set.values_list("pk", flat=True))
    elif sender is Group.permissions.through:  # permission.group_set changed
        groups = list(pk_set or instance.group_set.values_list("pk", flat=True))
        user_ids = list(
            get_user_model()
            .objects.filter(groups__in=groups)
            .values_list("pk", flat=True)
        )
    elif pk_set is not None:  # group.user_set / permission.user_set changed
        user_ids = list(pk_set)
    else:
        user_ids = list(instance.user_set.values_list("pk", flat=True))
    if user_ids:
        _forget_in_batches(_live_checksums(user_id__in=user_ids))


def connect_receivers() -> None:
    """Wire the receivers above (called from `OAuthServerConfig.ready`)."""
    access_token_model = get_access_token_model()
    user_model = get_user_model()
    for signal in (post_save, post_delete):
        signal.connect(
            _token_changed, sender=access_token_model, dispatch_uid="token_cache"
        )
    post_save.connect(
        _application_saved,
        sender=get_application_model(),
        dispatch_uid="token_cache_app",
    )
    pre_save.connect(
        _application_changing,
        sender=get_application_model(),
        dispatch_uid="token_cache_app_changing",
    )
    post_delete.connect(
        _application_deleted,
        sender=get_application_model(),
        dispatch_uid="token_cache_app_deleted",
    )
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="token_cache_user")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _user_access_changed, sender=through, dispatch_uid="token_cache_m2m"
        )
