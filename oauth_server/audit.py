"""The audit log: one INSERT per security-relevant change, in its transaction.

`record` is called by the services, views and validator that make the change,
never after the fact, so an event exists exactly when its change was committed.
It reads nothing: the user, application and address come from objects the caller
already holds. Sign-in events come from Django's and axes' signals (connected
here, imported by the app's `ready`).
"""

import time
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace

from axes.signals import user_locked_out
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from oauthlib.common import Request as OAuthlibRequest

from oauth_server.models import Application, AuditEvent
from oauth_server.net import client_address

Event = AuditEvent.Event
USERNAME_LENGTH = AuditEvent._meta.get_field("username").max_length


def record(event: str, **arguments: object) -> AuditEvent:
    """Store one event, built from `unsaved`'s arguments, in the current transaction."""
    entry = unsaved(event, **arguments)
    entry.save(force_insert=True)
    return entry


def unsaved(
    event: str,
    *,
    request: object | None = None,
    user: AbstractBaseUser | int | None = None,
    username: str = "",
    application: Application | None = None,
    **details: object,
) -> AuditEvent:
    """One event, not yet stored; `details` must be JSON and never hold a secret
    or token. `record` stores it; a caller sending its INSERT itself uses it
    directly (`common.db.insert_statement`).

    `request` is a Django request or an oauthlib one (its headers are the Django
    request's META); `user` a user, a user's primary key, or None (anonymous);
    `username` the name typed when no user is known (a failed sign-in).
    """
    entry = AuditEvent(
        event=event,
        details=details,
        address=address_of(request),
        username=username[:USERNAME_LENGTH],
    )
    if isinstance(user, int):
        entry.user_id = user
    elif user is not None and user.is_authenticated:
        entry.user = user
        entry.username = user.get_username()[:USERNAME_LENGTH]
    if application is not None:
        entry.application = application
        entry.client_id = application.client_id
    return entry


def address_of(request: object | None) -> str | None:
    """The client address of a Django, DRF or oauthlib request, None without one."""
    if request is None:
        return None
    if isinstance(request, OAuthlibRequest):
        # DOT copies the Django request's META into oauthlib's headers; attributes
        # of oauthlib's request are answered from the client's parameters too.
        request = SimpleNamespace(META=request.headers)
    return client_address(request) or None


def events_prune(
    *, before: datetime, batch_size: int = 10_000, pause: float = 0
) -> Iterator[int]:
    """Delete events created before `before`, oldest first; yield each batch's count.

    Each batch takes at most `batch_size` primary keys through the `created` index
    and deletes them in a transaction of its own, so no lock is held for long.
    """
    while True:
        with transaction.atomic():
            pks = list(
                AuditEvent.objects.filter(created__lt=before)
                .order_by("created", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                return
            deleted, _ = AuditEvent.objects.filter(pk__in=pks).delete()
        yield deleted
        if len(pks) < batch_size:
            return
        if pause:
            time.sleep(pause)


@receiver(user_logged_in, dispatch_uid="audit_sign_in_succeeded")
def _signed_in(*, request: HttpRequest | None, user: AbstractBaseUser, **kw) -> None:
    record(Event.SIGN_IN_SUCCEEDED, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def _sign_in_failed(
    *, credentials: dict, request: HttpRequest | None = None, **kw
) -> None:
    # Django has already masked the password in `credentials`; only the name is kept.
    username = _typed_username(credentials.get("username"))
    record(Event.SIGN_IN_FAILED, request=request, username=username)


@receiver(user_locked_out, dispatch_uid="audit_sign_in_locked_out")
def _locked_out(*, request: HttpRequest, username: object = None, **kw) -> None:
    record(
        Event.SIGN_IN_LOCKED_OUT, request=request, username=_typed_username(username)
    )


def _typed_username(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
