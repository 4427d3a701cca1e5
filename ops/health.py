"""What /healthz and /readyz check: liveness without I/O, readiness cheaply."""

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

# Set once a check found every migration applied: later migrations arrive only with
# new code, so with a new process. Until then each probe checks again.
_migrations_applied = False


def database_ready() -> None:
    """The default database answers a trivial query."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def cache_ready() -> None:
    """The default cache answers a read (one round trip to Redis).

    The Redis backend (ops/cache.py) never raises: the server keeps working without
    it. It remembers an outage, and this probe reports it.
    """
    cache.get("readyz-probe")
    outage = getattr(cache, "outage", None)
    if outage is not None and outage.down_since is not None:
        raise ConnectionError("the cache is unreachable")


def migrations_applied() -> None:
    """No migration of the installed apps is left unapplied (checked once per process)."""
    global _migrations_applied  # a per-process memo, by design
    if _migrations_applied:
        return
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} unapplied migration(s)")
    _migrations_applied = True


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": database_ready,
    "cache": cache_ready,
    "migrations": migrations_applied,
}


def readiness() -> dict[str, str]:
    """Each check's result, "ok" or "failed"; a failure is logged with its cause."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        if name == "migrations" and results.get("database") != "ok":
            results[name] = "skipped"  # needs the database
            continue
        try:
            check()
        except Exception as exc:  # any failure means "not ready", never a 500
            logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = "failed"
        else:
            results[name] = "ok"
    return results
