"""Deleting expired tokens in short batches (`manage.py cleartokens`).

The same rows as DOT's `clear_expired` (oauth2_provider/models.py), in the same
order, plus device grants (DOT never deletes them) and our redeemed-code records.
DOT counts the remaining rows with a full scan before every batch; here each batch
selects at most `batch_size` primary keys through an indexed column (migration
0005), walking the primary key forward so rows that stay are not read twice, and
deletes them in a transaction of its own, re-checking the condition, so no lock is
held for long and a row that changed in between is left alone.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
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
    refresh_token = get_refresh_token_model()
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
            get_access_token_model(),
            models.Q(refresh_token__isnull=True, expires__lt=now),
        ),
        Sweep(
            "ID tokens",
            get_id_token_model(),
            models.Q(access_token__isnull=True, expires__lt=now),
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


def sweep_delete(*, sweep: Sweep, batch_size: int, pause: float = 0) -> int:
    """Delete the rows of `sweep` in batches of at most `batch_size`; how many went."""
    model, label = sweep.model, sweep.model._meta.label
    deleted = 0
    after = None
    while True:
        candidates = model._default_manager.filter(sweep.condition)
        if after is not None:
            candidates = candidates.filter(pk__gt=after)
        pks = list(candidates.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            break
        with transaction.atomic(using=candidates.db):
            _, per_model = (
                model._default_manager.filter(sweep.condition, pk__in=pks)
                .order_by()
                .delete()
            )
        deleted += per_model.get(label, 0)
        logger.debug("%s: %s deleted in a batch", sweep.label, per_model.get(label))
        if len(pks) < batch_size:
            break
        after = pks[-1]
        if pause:
            time.sleep(pause)
    return deleted


def expired_tokens_clear(
    *, batch_size: int, pause: float = 0, now: datetime | None = None
) -> list[tuple[str, int]]:
    """Delete every expired token, grant and record; (what, how many) per sweep."""
    now = now or timezone.now()
    results = []
    for sweep in expired_token_sweeps(now=now):
        count = sweep_delete(sweep=sweep, batch_size=batch_size, pause=pause)
        logger.info("cleartokens: %s %s deleted", count, sweep.label)
        results.append((sweep.label, count))
    return results
