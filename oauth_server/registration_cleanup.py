"""Deleting self-registered clients that were never used (`clearregistrations`).

Clients registered dynamically or by a metadata document cost nothing to create,
so the ones that never obtained a token go after the registration policy's
`unused_days`, each with its `application.deleted` event.
"""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings

from oauth_server import audit
from oauth_server.models import Application, AuditEvent, Consent, RegistrationPolicy
from oauth_server.registration import SELF_REGISTERED, registration_delete


def unused_registrations(*, now: datetime, days: int) -> QuerySet[Application]:
    """Self-registered clients older than `days` that never obtained a token.

    Used means: a token (besides the registration access token), a code, a
    consent, or an audit event of tokens issued, which outlives the tokens.
    """
    app = OuterRef("pk")
    access_tokens = (
        get_access_token_model()
        .objects.filter(application=app)
        .exclude(scope=oauth2_settings.DCR_REGISTRATION_SCOPE)
    )
    issued = AuditEvent.objects.filter(
        application=app,
        event__in=[audit.Event.TOKEN_ISSUED, audit.Event.TOKEN_REFRESHED],
    )
    return Application.objects.filter(
        registration_source__in=SELF_REGISTERED,
        created__lt=now - timedelta(days=days),
    ).exclude(
        Q(Exists(access_tokens))
        | Q(Exists(get_refresh_token_model().objects.filter(application=app)))
        | Q(Exists(get_grant_model().objects.filter(application=app)))
        | Q(Exists(Consent.objects.filter(application=app)))
        | Q(Exists(issued))
    )


def unused_registrations_clear(
    *, now: datetime | None = None, days: int | None = None
) -> int:
    """Delete the unused registrations the policy's `unused_days` allow; how many."""
    now = now or timezone.now()
    if days is None:
        days = RegistrationPolicy.load().unused_days
    deleted = 0
    for app in unused_registrations(now=now, days=days).order_by("pk"):
        registration_delete(application=app, request=None, reason="unused")
        deleted += 1
    return deleted
