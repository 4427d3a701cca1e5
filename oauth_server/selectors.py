"""Reads of the authorization server that shape queries or decide policy."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Min, Q, QuerySet
from django.urls import Resolver404, resolve
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractRefreshToken,
    get_access_token_model,
    get_refresh_token_model,
)

from oauth_server import i18n, personal_tokens, token_cache
from oauth_server.models import Application, AuditEvent, Consent
from oauth_server.tokens import checksum, token_is_live


def application_list(*, include_inactive: bool = True) -> QuerySet[Application]:
    """Registered applications in name order (the model's ordering)."""
    queryset = Application.objects.all()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset


def developer_applications(
    *, user: AbstractBaseUser, include_inactive: bool = True
) -> QuerySet[Application]:
    """The applications `user` registered in the developer portal, by name."""
    return application_list(include_inactive=include_inactive).filter(user=user)


def live_token(*, value: str) -> AbstractAccessToken | AbstractRefreshToken | None:
    """The live access token, or else the live refresh token, whose value is `value`.

    What introspection (RFC 7662) answers for: None when the value names no token,
    or one that `token_is_live` refuses. An access token comes from the bearer
    cache (`token_cache`: no query when cached, revocation seen at once), with its
    application, user and delegation (RFC 8693 `act`) joined; a refresh token is
    looked up with its application, user and access token in one more query.
    Tokens are unique by checksum, so neither lookup orders anything (an
    `ORDER BY id LIMIT 1` made PostgreSQL walk the primary key instead of the
    checksum index).
    """
    digest = checksum(value)
    access = token_cache.access_token_get(checksum=digest)
    if access is not None and token_is_live(access):
        return access
    refresh = (
        get_refresh_token_model()
        .objects.select_related("user", "application", "access_token")
        .filter(token_checksum=digest, revoked__isnull=True)
        .order_by()[:1]
    )
    refresh = next(iter(refresh), None)
    if refresh is not None and token_is_live(refresh):
        return refresh
    return None


AUTHORIZE = "oauth2_provider:authorize"


def consent_get(*, user: AbstractBaseUser, application: Application) -> Consent | None:
    """The consent `user` gave `application` (the scopes allowed so far), if any."""
    return Consent.objects.filter(user=user, application=application).first()


def consent_exists(
    *, application: Application, consent: Consent | None, scopes: Iterable[str]
) -> bool:
    """Whether the consent on record (`consent_get`) covers `scopes`.

    The one place that decides whether the consent page may be skipped (without
    `prompt=consent`, and for `prompt=none`): the application skips authorization
    (first-party, registered so), or the user's remembered consent for it covers
    every requested scope. No query: the authorization view reads the consent once
    for this and for the page's list of scopes already granted.
    """
    if application.skip_authorization:
        return True
    return consent is not None and consent.covers(scopes)


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
                scopes=[(name, i18n.scope_description(name)) for name in names],
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


@dataclass(frozen=True)
class AuthorizationRequest:
    """An authorization request URL's application and its last value of each key."""

    application: Application
    params: dict[str, str]


def authorization_request(url: str) -> AuthorizationRequest | None:
    """What `url` asks for if it is an authorization request (`/o/authorize/?...`).

    None for anything else: another page, a malformed URL, a client id no
    application has. A `next` parameter is user input, so nothing here raises.
    """
    try:
        parts = urlsplit(url)
        if resolve(parts.path).view_name != AUTHORIZE:
            return None
    except (ValueError, Resolver404):
        return None
    params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    client_id = params.get("client_id", "")
    max_length = Application._meta.get_field("client_id").max_length
    # PostgreSQL refuses NUL in a query parameter: such an id matches nothing.
    if not client_id or len(client_id) > max_length or not client_id.isprintable():
        return None
    application = Application.objects.filter(client_id=client_id).first()
    if application is None:
        return None
    return AuthorizationRequest(application=application, params=params)


def application_asking(*, next_url: str) -> Application | None:
    """The active application whose authorization request `next_url` is, if any.

    What the sign-in page names ("Sign in to continue to ..."); `next_url` must
    already be a checked redirect (LoginView's `next`).
    """
    request = authorization_request(next_url)
    if request is None or not request.application.is_active:
        return None
    return request.application


def security_events(*, user: AbstractBaseUser, limit: int = 20) -> QuerySet[AuditEvent]:
    """The user's latest audit events, newest first, with their applications.

    Failed sign-ins and lockouts name no user, only the username typed: those typed
    as this user's name count too (someone trying their password). One query.
    """
    return (
        AuditEvent.objects.filter(
            Q(user=user) | Q(user__isnull=True, username__iexact=user.get_username())
        )
        .select_related("application")
        .order_by("-created", "-pk")[:limit]
    )
