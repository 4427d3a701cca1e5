"""The authorization server's own settings: `OAUTH_SERVER` over these defaults."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from oauth_server import resource_servers
from oauth_server.resource_servers import ResourceServer


@dataclass(frozen=True)
class ServerSettings:
    """Defaults for `settings.OAUTH_SERVER`; an unknown key fails loudly."""

    # Reverse proxies in front of the server, each appending to X-Forwarded-For;
    # 0: clients connect directly (oauth_server/net.py).
    trusted_proxy_count: int = 0
    # Failed sign-ins from one client address, any usernames, within the cool-off
    # period before that address is locked out. The per-account limit and the
    # cool-off are django-axes' AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME.
    login_failures_per_address: int = 50
    # Wrong device user codes (RFC 8628 §5.1) allowed per signed-in user, then per
    # client address, within `user_code_lockout_seconds`, before the code page refuses.
    user_code_failures_per_user: int = 5
    user_code_failures_per_address: int = 50
    user_code_lockout_seconds: int = 900
    # How long a bearer-token lookup may be answered from the cache (0: never).
    # Revocation, deactivation and permission changes forget entries at once; writes
    # that bypass model signals (QuerySet.update, raw SQL) are seen within this time.
    bearer_cache_seconds: int = 300
    # How long a process may trust the bearer-cache epoch kept in a shared cache
    # before asking the database again (one query per period for all processes).
    # After a revocation the cache could not hear of, other processes refuse the
    # token within this time; the revoking process at once. Unused without a shared
    # cache: every lookup then reads the epoch (oauth_server/token_cache.py).
    bearer_cache_epoch_seconds: int = 1
    # Client-credentials tokens commit without waiting for PostgreSQL to flush its
    # write-ahead log (`SET LOCAL synchronous_commit TO OFF`, that transaction
    # only). A crash of the database server may lose the last fraction of a second
    # of such tokens and their audit events, all or nothing: their clients get 401
    # and ask again. Nothing one-time (codes, refresh tokens, device codes) and no
    # revocation commits this way. Ignored on SQLite.
    client_credentials_async_commit: bool = True
    # Where `rotateoidckey` keeps the signing keys when OIDC_RSA_PRIVATE_KEY is not
    # set (active.pem, retired-*.pem); config/settings.py reads the same directory.
    oidc_key_dir: Path = Path("var/oidc")
    # Days an audit event is kept; `clearaudit` deletes older ones (0: keep all).
    audit_retention_days: int = 365
    # The demo credentials `loaddemo` writes (mode 0600) and `make run` reads.
    demo_credentials_file: Path = Path("var/demo.json")
    # The resource servers tokens may be minted for (RFC 8707), with their canonical
    # URIs, accepted scopes and the clients that run them (resource_servers.py).
    resource_servers: tuple[ResourceServer, ...] = resource_servers.DEVELOPMENT
    # Tests only (never read from the environment): client ID metadata documents
    # on these hosts may be fetched from loopback, trusting this CA bundle
    # (oauth_server/cimd.py). Empty: DOT's SSRF checks apply to every host.
    cimd_test_hosts: tuple[str, ...] = ()
    cimd_test_ca_file: str = ""


@cache
def server_settings() -> ServerSettings:
    """`OAUTH_SERVER` over our defaults, read once (until the setting changes)."""
    return ServerSettings(**getattr(settings, "OAUTH_SERVER", {}))


@receiver(setting_changed)
def _reset_server_settings(*, setting: str, **kwargs: object) -> None:
    if setting == "OAUTH_SERVER":  # keeps pytest's `settings` fixture honest
        server_settings.cache_clear()
