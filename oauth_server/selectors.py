"""Reads of the authorization server that shape queries or decide policy."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from oauth_server import personal_tokens, scopes
from oauth_server.models import Application, AuditEvent, Consent


def consent_exists(
    *, user: AbstractBaseUser, application: Application, scopes: Iterable[str]
) -> bool:
    """Whether `user` has already consented to `scopes` for `application`.

    The one place that decides whether the consent page may be skipped (without
    `prompt=consent`, and for `prompt=none`): the application skips authorization
    (first-party, registered so), or the user's remembered consent for it covers
    every requested scope. One query, none for applications that skip authorization.
    """
    if application.skip_authorization:
        return True
    consent = Consent.objects.filter(user=user, application=application).first()
    return consent is not None and consent.covers(scopes)


def granted_scopes(*, user: AbstractBaseUser, application: Application) -> list[str]:
    """The scopes `user` has allowed `application` so far (none if never)."""
    consent = Consent.objects.filter(user=user, application=application).first()
    return consent.scope_list if consent else []


@dataclass(frozen=True)
class ConnectedApplication:
    """An application with access to a user's account, as the user sees it."""

    application: Application
    scopes: list[tuple[str, str]]  # (name, what it allows, in words)
    granted: datetime | None  # when the user last allowed it more
    last_used: datetime | None  # when it last got a token (sign-in or refresh)
    live_tokens: int


def connected_applications(*, user: AbstractBaseUser) -> list[ConnectedApplication]:
    """One entry per application holding consent or tokens for `user`, most
    recently used first. Personal access tokens have their own page. Three queries,
    four when some application has tokens but no remembered consent.
    """
    consents = {
        consent.application_id: consent
        for consent in Consent.objects.filter(user=user).select_related("application")
    }
    now = timezone.now()
    usage = {
        row["application"]: row
        for row in get_access_token_model()
        .objects.filter(user=user, application__isnull=False)
        .exclude(application__client_id=personal_tokens.CLIENT_ID)
        .values("application")
        .annotate(
            last_used=Max("created"),
            first=Min("created"),
            live=Count("pk", filter=Q(expires__gt=now)),
        )
    }
    others = Application.objects.in_bulk(set(usage) - set(consents))
    # Without a consent row (first-party apps, tokens from before consents were
    # remembered): what its tokens carry.
    token_scopes: dict[int, list[str]] = {}
    if others:
        for key, scope in (
            get_access_token_model()
            .objects.filter(user=user, application__in=others)
            .values_list("application", "scope")
            .distinct()
        ):
            token_scopes[key] = list(
                dict.fromkeys([*token_scopes.get(key, []), *scope.split()])
            )
    applications = {key: consent.application for key, consent in consents.items()}
    applications.update(others)
    entries = []
    for key, application in applications.items():
        consent, used = consents.get(key), usage.get(key, {})
        names = consent.scope_list if consent else token_scopes.get(key, [])
        entries.append(
            ConnectedApplication(
                application=application,
                scopes=[(name, scopes.SCOPES.get(name, name)) for name in names],
                granted=consent.granted if consent else used.get("first"),
                last_used=used.get("last_used"),
                live_tokens=used.get("live", 0),
            )
        )
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(
        entries,
        key=lambda entry: entry.last_used or entry.granted or oldest,
        reverse=True,
    )


def security_events(*, user: AbstractBaseUser, limit: int = 20) -> QuerySet[AuditEvent]:
    """The user's latest audit events, newest first, with their applications.

    One query, along the (user, created) index.
    """
    return (
        AuditEvent.objects.filter(user=user)
        .select_related("application")
        .order_by("-created", "-pk")[:limit]
    )
