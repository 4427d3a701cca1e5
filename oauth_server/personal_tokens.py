"""Personal access tokens: create, list and revoke (shared by the API and a command).

A personal token is a DOT access token for the user, issued to one internal
confidential application whose secret nobody knows, so it can only come from here.
"""

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import get_access_token_model, set_token_value

from oauth_server import audit, scopes
from oauth_server.models import Application, PersonalAccessToken

logger = logging.getLogger(__name__)

CLIENT_ID = "personal-access-tokens"
AVAILABLE_SCOPES = (scopes.BOOKS_READ, scopes.BOOKS_WRITE)
DEFAULT_LIFETIME_DAYS = 30
MAX_LIFETIME_DAYS = 365
PREFIX = "pat_"  # recognisable by secret scanners


@dataclass(frozen=True)
class IssuedToken:
    """A saved personal token and its cleartext value, shown once and never stored."""

    personal: PersonalAccessToken
    token: str


def personal_token_application() -> Application:
    """The internal application personal tokens are issued to (created on first use)."""
    app = Application.objects.filter(client_id=CLIENT_ID).first()
    if app is not None:
        return app
    app = Application(
        client_id=CLIENT_ID,
        name="Personal access tokens",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        allowed_scopes=" ".join(AVAILABLE_SCOPES),
        description="Tokens people create for themselves; never used to sign in.",
    )
    app.full_clean()
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:  # created concurrently
        return Application.objects.get(client_id=CLIENT_ID)
    return app


def personal_token_list(*, user: AbstractBaseUser) -> QuerySet[PersonalAccessToken]:
    """The user's personal tokens, expired ones included, with their access tokens."""
    return PersonalAccessToken.objects.filter(user=user).select_related("access_token")


@transaction.atomic
def personal_token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    scope: str | Sequence[str],
    expires_in_days: int = DEFAULT_LIFETIME_DAYS,
    request: HttpRequest | None = None,
) -> IssuedToken:
    """Issue a named token with the chosen scopes that expires after the given days."""
    names = (
        scopes.parse(scope) if isinstance(scope, str) else list(dict.fromkeys(scope))
    )
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Name the token.")]
    elif not name.isprintable():
        # A one-line label: no control or invisible characters, which XML cannot
        # carry and which hide text from the person reading the list.
        errors["name"] = [_("Use printable characters only.")]
    elif PersonalAccessToken.objects.filter(user=user, name=name).exists():
        errors["name"] = [_("You already have a token with this name.")]
    if not names:
        errors["scope"] = [_("Choose at least one scope.")]
    elif bad := [n for n in names if n not in AVAILABLE_SCOPES]:
        errors["scope"] = [
            _("Not available for personal tokens: %(bad)s. Choose from: %(known)s.")
            % {"bad": ", ".join(bad), "known": ", ".join(AVAILABLE_SCOPES)}
        ]
    if not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        errors["expires_in_days"] = [
            _("Choose between 1 and %(max_days)d days.")
            % {"max_days": MAX_LIFETIME_DAYS}
        ]
    if errors:
        raise ValidationError(errors)

    raw = PREFIX + secrets.token_urlsafe(32)
    access_token = get_access_token_model()(
        user=user,
        application=personal_token_application(),
        scope=" ".join(names),
        expires=timezone.now() + timedelta(days=expires_in_days),
    )
    set_token_value(access_token, raw)  # only the checksum is stored
    access_token.save()
    personal = PersonalAccessToken(
        user=user, name=name, access_token=access_token, hint=raw[: len(PREFIX) + 4]
    )
    try:
        with transaction.atomic():
            personal.save()
    except IntegrityError as exc:  # the same name, created concurrently
        raise ValidationError(
            {"name": [_("You already have a token with this name.")]}
        ) from exc
    audit.record(
        audit.Event.PERSONAL_TOKEN_CREATED,
        request=request,
        user=user,
        application=access_token.application,
        name=name,
        scopes=names,
        expires_in_days=expires_in_days,
    )
    logger.info("personal token created id=%s user=%s", personal.pk, user.pk)
    return IssuedToken(personal=personal, token=raw)


@transaction.atomic
def personal_token_revoke(
    *, personal: PersonalAccessToken, request: HttpRequest | None = None
) -> None:
    """Revoke the token at once: its access token is deleted, and this row with it."""
    owner = getattr(request, "user", None)
    audit.record(
        audit.Event.PERSONAL_TOKEN_REVOKED,
        request=request,
        user=owner
        if getattr(owner, "pk", None) == personal.user_id
        else personal.user_id,
        name=personal.name,
    )
    logger.info("personal token revoked id=%s user=%s", personal.pk, personal.user_id)
    personal.access_token.revoke()
