"""When the session's user signed in, carried to the ID token as `auth_time`.

OIDC Core §2: `auth_time` is when the End-User authenticated (REQUIRED when the request
had `max_age`). DOT puts `user.last_login` there: the latest sign-in anywhere, from
another browser or device, not the one behind this session. So the time is recorded in
the session at sign-in, given to the authorization code, and from the code to each ID
token; a refreshed ID token keeps it (OIDC Core §12.2).
"""

import time
from datetime import UTC, datetime

from django.contrib.auth.signals import user_logged_in
from django.db.models import Subquery
from django.dispatch import receiver
from django.http import HttpRequest
from oauth2_provider.models import get_grant_model

from oauth_server.models import AuthTime

SESSION_KEY = "oauth_server_auth_time"


def now() -> int:
    """Seconds since the epoch, the unit of `auth_time` and `max_age`."""
    return int(time.time())


@receiver(user_logged_in)
def record_sign_in(*, request: HttpRequest | None, **kwargs: object) -> None:
    """Every sign-in (login form, admin, `force_login`) stamps the session."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = now()


def session_auth_time(request: HttpRequest) -> int | None:
    """When the session's user signed in; None for sessions from before we recorded it."""
    value = request.session.get(SESSION_KEY)
    return value if isinstance(value, int) else None


def auth_time_save_for_code(*, code: str, signed_in_at: int) -> None:
    """Remember the sign-in behind the authorization code just saved."""
    # The grant's id by subquery, in the INSERT: the grant was saved a moment ago,
    # and reading it back would cost a query.
    grant = get_grant_model().objects.filter(code=code).values("pk")[:1]
    AuthTime.objects.create(
        grant_id=Subquery(grant),
        authenticated_at=datetime.fromtimestamp(signed_in_at, UTC),
    )


def auth_time_save_for_id_token(*, id_token: object, signed_in_at: datetime) -> None:
    """Remember the sign-in behind an ID token, for the ID tokens refreshes make."""
    AuthTime.objects.create(id_token=id_token, authenticated_at=signed_in_at)


def auth_time_of_token_request(request: object) -> datetime | None:
    """The sign-in behind the code or refresh token of an oauthlib token request.

    None when nothing was recorded (device grant, codes and tokens issued before
    this was), where DOT's `last_login` stays.
    """
    records = AuthTime.objects.none()
    if request.grant_type == "authorization_code":
        records = AuthTime.objects.filter(
            grant__code=request.code, grant__application=request.client
        )
    elif request.grant_type == "refresh_token":
        # Set by DOT's validate_refresh_token; an attribute, never a request parameter.
        refresh = vars(request).get("refresh_token_instance")
        access = getattr(refresh, "access_token", None)
        if access is not None and access.id_token_id is not None:
            records = AuthTime.objects.filter(id_token_id=access.id_token_id)
    return records.values_list("authenticated_at", flat=True).first()
