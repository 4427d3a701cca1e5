"""Failed sign-in counting and lockout: our hooks into django-axes.

Axes' authentication backend refuses a locked-out account or address before any
password is checked, on every form that calls `authenticate()` (ours and the
admin's), and its middleware turns the refusal into `lockout_response`. Failures
are counted per account (whatever the address) and per client address (whatever
the username), in the database, so every process sees the same counts.
"""

import hashlib
import ipaddress
import math
import unicodedata

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.db import connections, router
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext

from oauth_server.conf import server_settings
from oauth_server.net import client_address

# AccessAttempt.username's length; longer names are not accounts anyway.
USERNAME_KEY_LENGTH = 255


def username_key(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The account a sign-in counts against (`AXES_USERNAME_CALLABLE`).

    Django's login form signs in with the NFKC form of what was typed, so full-width
    "alice" is "alice"; case is folded too, as RFC 8265 §3.3 does for usernames, so no
    spelling of a name gets its own allowance, whatever the user lookup does.
    """
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", request.POST).get("username")
    if not isinstance(value, str):
        return None
    return normalize_username(value)


def normalize_username(value: str) -> str:
    """`value` stripped, NFKC case-folded (Unicode's NFKC_Casefold), bounded."""
    value = unicodedata.normalize("NFKC", value[: USERNAME_KEY_LENGTH * 4].strip())
    folded = unicodedata.normalize("NFKC", value.casefold()).strip()
    return folded[:USERNAME_KEY_LENGTH]


def address_key(request: HttpRequest) -> str:
    """The address a sign-in counts against (`AXES_CLIENT_IP_CALLABLE`).

    The client address, or its /64 for IPv6: hosts pick their own 64-bit interface
    identifiers (RFC 4291 §2.5.1, RFC 8981), so one machine can rotate through 2^64
    addresses, and counting them one by one would give it endless tries.
    """
    address = client_address(request)
    if ":" not in address:
        return address
    return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)


class SignInBackend(AxesStandaloneBackend):
    """Axes' backend, one sign-in at a time per account (first in the backends).

    Axes checks the count, then the password is hashed, then the failure is
    recorded: parallel tries would all pass the check before any is recorded (20
    parallel guesses were all checked against a limit of 5). On PostgreSQL a
    transaction-scoped advisory lock per account holds each try until the one
    before it has recorded its failure and committed (ATOMIC_REQUESTS).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None and isinstance(username, str):
            lock_account(normalize_username(username))
        return super().authenticate(request, username, password, **kwargs)


def lock_account(key: str) -> None:
    """Wait for other sign-ins to `key` in this transaction (PostgreSQL only)."""
    connection = connections[router.db_for_write(AccessAttempt)]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    digest = hashlib.sha256(f"sign-in:{key}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            [int.from_bytes(digest[:8], "big", signed=True)],
        )


class SignInHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per lockout parameter.

    Axes compares one failure count with one limit (`AXES_FAILURE_LIMIT`, here the
    per-account limit). The client address gets its own, higher limit
    (`login_failures_per_address`): people share addresses behind NAT, while an
    account belongs to one person.
    """

    def get_failures(
        self, request: HttpRequest, credentials: dict | None = None
    ) -> int:
        """Failures so far, as the account limit minus the tries left.

        The tries left are those before the nearest limit, per account or per
        address, so this reaches `AXES_FAILURE_LIMIT` exactly when either is hit.
        """
        account_limit = get_failure_limit(request, credentials)
        address_limit = server_settings().login_failures_per_address
        tries_left = account_limit
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(
            parameters, self.get_user_attempts(request, credentials), strict=True
        ):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            limit = address_limit if parameter == "ip_address" else account_limit
            tries_left = min(tries_left, limit - failures)
        return account_limit - tries_left

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        """Axes' reset, for a username as it was counted (`axes_reset_username`)."""
        if username is not None:
            username = normalize_username(username)
        return super().reset_attempts(
            ip_address=ip_address, username=username, ip_or_username=ip_or_username
        )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The sign-in page saying sign-in is paused (`AXES_LOCKOUT_CALLABLE`), 429.

    The same page whether the account exists, the password was right, or the
    account or the address was locked (RFC 6585 §4 for the status).
    """
    seconds = int(get_cool_off(request).total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    # The login view's own context: its form (the username typed) and its `next`,
    # which LoginView has already checked is a safe redirect.
    context = getattr(original_response, "context_data", None) or {}
    # A TemplateResponse, rendered here, keeps its context for the CSP middleware
    # (the logo of the application asking: oauth_server/csp.py).
    response = TemplateResponse(
        request,
        "oauth_server/login.html",
        {
            "form": context.get("form"),
            "next": context.get("next", ""),
            "application": context.get("application"),
            "form_action": request.path,
            "locked_out": ngettext(
                "Too many failed sign-ins. Try again in %(minutes)d minute, "
                "or ask an administrator to unlock the account.",
                "Too many failed sign-ins. Try again in %(minutes)d minutes, "
                "or ask an administrator to unlock the account.",
                minutes,
            )
            % {"minutes": minutes},
        },
        status=429,
    )
    response.render()
    response["Retry-After"] = str(seconds)
    add_never_cache_headers(response)
    return response
