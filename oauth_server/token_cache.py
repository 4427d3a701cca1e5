"""Bearer-token lookups kept in the shared cache, forgotten the moment they go stale.

The resource API and userinfo look a bearer token up by its checksum on every
request. The token, its application and its user (with the user's permissions
already read) are kept in Django's default cache, Redis in production, so a warm
request asks the database nothing; `token_is_live` still judges every use, so
expiry needs no invalidation.

Whatever can make a cached token wrong, revocation (the token row deleted or
changed), an application or user saved (deactivated), a user's groups or
permissions changed, replaces its entry with a tombstone before and after the
write commits. A tombstone sends lookups to the database, and entries are only
ever written with `add`, so a request that read the row before the write cannot
put the stale token back. Every process shares the cache, so every process sees
the revocation on its next request.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    get_access_token_model,
    get_application_model,
)

from oauth_server.conf import server_settings

KEY = "bearer:%s"
TOMBSTONE = "forgotten"
BATCH = 1000


def _load(checksum: str) -> AbstractAccessToken | None:
    return (
        get_access_token_model()
        .objects.select_related("application", "user")
        .filter(token_checksum=checksum)
        .first()
    )


def access_token_get(*, checksum: str) -> AbstractAccessToken | None:
    """The access token with this checksum, its application and user joined."""
    seconds = server_settings().bearer_cache_seconds
    if seconds <= 0:
        return _load(checksum)
    key = KEY % checksum
    cached = cache.get(key)
    if isinstance(cached, AbstractAccessToken):
        return cached
    token = _load(checksum)
    if token is None or cached is not None:  # unknown, or forgotten a moment ago
        return token
    lifetime = int((token.expires - timezone.now()).total_seconds())
    if lifetime > 0:
        if token.user is not None:
            token.user.get_all_permissions()  # read once, kept with the user
        cache.add(key, token, timeout=min(seconds, lifetime))
    return token


def access_tokens_forget(checksums: Iterable[str]) -> None:
    """Tombstone these tokens' entries now and again when the transaction commits."""
    seconds = server_settings().bearer_cache_seconds
    if seconds <= 0:
        return
    tombstones = {KEY % checksum: TOMBSTONE for checksum in checksums if checksum}
    if not tombstones:
        return
    cache.set_many(tombstones, timeout=seconds)
    transaction.on_commit(lambda: cache.set_many(tombstones, timeout=seconds))


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
    if not created:
        _forget_in_batches(_live_checksums(application_id=instance.pk))


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
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="token_cache_user")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _user_access_changed, sender=through, dispatch_uid="token_cache_m2m"
        )
