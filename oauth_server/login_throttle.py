"""Failed sign-in counting, so passwords cannot be guessed at speed.

Counted in the shared cache (Redis in production) per username and client address,
and per address alone: one person mistyping is never locked out by someone
elsewhere guessing their password slowly, and a single address spraying many
usernames is stopped too.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from oauth_server.conf import server_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginAttempt:
    """The cache keys one sign-in attempt counts against."""

    account_key: str
    address_key: str

    @classmethod
    def of(cls, request: HttpRequest) -> "LoginAttempt":
        address = request.META.get("REMOTE_ADDR", "")
        username = request.POST.get("username", "").strip().lower()
        digest = hashlib.sha256(f"{username}\x00{address}".encode()).hexdigest()
        return cls(
            account_key=f"login-failures:account:{digest}",
            address_key=f"login-failures:address:{address}",
        )

    def is_blocked(self) -> bool:
        conf = server_settings()
        return (
            cache.get(self.account_key, 0) >= conf.login_failures_per_account
            or cache.get(self.address_key, 0) >= conf.login_failures_per_address
        )

    def record_failure(self) -> None:
        timeout = server_settings().login_lockout_seconds
        for key in (self.account_key, self.address_key):
            cache.add(key, 0, timeout=timeout)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=timeout)
        logger.warning("sign-in failed address=%s", self.address_key.rsplit(":", 1)[-1])

    def record_success(self) -> None:
        cache.delete(self.account_key)
