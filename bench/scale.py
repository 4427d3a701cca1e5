"""The scale run's database work: bulk-grow the token tables, explain, clean up.

Run by `bench/run.py` with the server's environment (PostgreSQL), after
`bench.seed`: `python -m bench.scale grow <total>` adds access tokens, in a mix like
a server's after a month of traffic, until there are `<total>`, and prints the rows
`cleartokens` must remove; `python -m bench.scale explain` prints the query plan of
each clean-up batch; `python -m bench.scale count` prints the rows left.

Rows are made by the database itself (INSERT ... SELECT generate_series), so a
million take seconds, not the minutes the ORM would.
"""

import json
import secrets
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta

import django

# Shares of the added access tokens, by what `cleartokens` must do with them.
MIX = {
    # (expires relative to now, has a live refresh token): share
    "expired": 0.50,  # client-credentials tokens an hour to 29 days past expiry: go
    "live": 0.25,  # not yet expired, no refresh token: stay
    "live_refreshable": 0.10,  # not expired, live refresh token: stay
    "expired_refreshable": 0.10,  # expired, refresh token live: both stay
    "dormant": 0.05,  # expired 31+ days ago, refresh token idle past its life: go
}
# Refresh tokens already rotated (revoked, no access token), per added access token:
# half revoked 31+ days ago (go), half yesterday (kept to detect a replay).
REVOKED_SHARE = 0.05


def _tables() -> tuple[str, str]:
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    return (
        get_access_token_model()._meta.db_table,
        get_refresh_token_model()._meta.db_table,
    )


def _owner() -> tuple[int, int]:
    """The seeded web application and reader every bulk token belongs to."""
    from django.contrib.auth import get_user_model

    from oauth_server.models import Application

    application = Application.objects.get(name="bench-web")
    return application.pk, get_user_model().objects.get(username="bench-reader").pk


def counts() -> dict[str, int]:
    """Access and refresh tokens stored now."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    return {
        "access_tokens": get_access_token_model().objects.count(),
        "refresh_tokens": get_refresh_token_model().objects.count(),
    }


def grow(total: int, *, now: datetime | None = None) -> dict[str, int]:
    """Add access tokens (and refresh tokens) until there are `total`.

    Returns how many rows of each kind were added, and how many access and refresh
    tokens `cleartokens` must delete (DOT's `clear_expired` rules, with the
    project's 30-day refresh lifetime and reuse protection).
    """
    from django.db import connection, transaction
    from django.utils import timezone
    from oauth2_provider.models import refresh_token_expire_timedelta

    now = now or timezone.now()
    lifetime = refresh_token_expire_timedelta() or timedelta(days=30)
    access_table, refresh_table = _tables()
    application, user = _owner()
    existing = counts()["access_tokens"]
    extra = max(0, total - existing)
    sizes = {kind: int(extra * share) for kind, share in MIX.items()}
    sizes["expired"] += extra - sum(sizes.values())
    hour, day = timedelta(hours=1), timedelta(days=1)
    # (first expiry, spread of expiries), spread over the rows of that kind.
    expiries = {
        "expired": (now - 29 * day, 29 * day - hour),
        # An hour or more to go: none expires while the benchmark runs.
        "live": (now + hour, hour),
        "live_refreshable": (now + hour, hour),
        "expired_refreshable": (now - lifetime + day, lifetime - day - hour),
        "dormant": (now - lifetime - 60 * day, 59 * day),
    }
    revoked = int(extra * REVOKED_SHARE)
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        _indexes_rebuilt(cursor, [access_table, refresh_table]),
    ):
        salt = secrets.token_hex(8)  # unique checksums across calls
        for kind, size in sizes.items():
            if not size:
                continue
            start, spread = expiries[kind]
            # Table names come from the models, values are parameters: no injection.
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{access_table}"')  # noqa: S608
            (after,) = cursor.fetchone()
            # The checksum only needs to be unique: no raw value is kept.
            cursor.execute(
                f"""
                INSERT INTO "{access_table}" (token, token_checksum, expires, scope,
                    application_id, user_id, created, updated, resource)
                SELECT '', encode(sha256((%s || i)::bytea), 'hex'),
                    %s + %s * (i::float / %s), 'openid profile books:read', %s, %s,
                    %s, %s, '[]'::jsonb
                FROM generate_series(1, %s) AS i
                """,  # noqa: S608
                [
                    f"{salt}-{kind}-",
                    start,
                    spread,
                    size,
                    application,
                    user,
                    now,
                    now,
                    size,
                ],
            )
            if kind in ("live_refreshable", "expired_refreshable", "dormant"):
                cursor.execute(
                    f"""
                    INSERT INTO "{refresh_table}" (token, token_checksum,
                        access_token_id, application_id, user_id, created, updated,
                        token_family, resource)
                    SELECT '', encode(sha256(('scale-rt-' || id)::bytea), 'hex'), id,
                        application_id, user_id, created, updated, gen_random_uuid(),
                        '[]'::jsonb
                    FROM "{access_table}" WHERE id > %s
                    """,  # noqa: S608
                    [after],
                )
        if revoked:
            cursor.execute(
                f"""
                INSERT INTO "{refresh_table}" (token, token_checksum, application_id,
                    user_id, created, updated, revoked, token_family, resource)
                SELECT '', encode(sha256((%s || i)::bytea), 'hex'),
                    %s, %s, %s, %s,
                    CASE WHEN i %% 2 = 0 THEN %s ELSE %s END,
                    gen_random_uuid(), '[]'::jsonb
                FROM generate_series(1, %s) AS i
                """,  # noqa: S608
                [
                    f"{salt}-revoked-",
                    application,
                    user,
                    now,
                    now,
                    now - lifetime - day,
                    now - day,
                    revoked,
                ],
            )
    # Fresh statistics, so the planner knows the table's size; VACUUM too (the
    # visibility map) when not inside a transaction, where it cannot run.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(f'{command} "{access_table}"')
        cursor.execute(f'{command} "{refresh_table}"')
    return {
        **{f"added_{kind}": size for kind, size in sizes.items()},
        "added_revoked_refresh": revoked,
        "to_delete_access": sizes["expired"] + sizes["dormant"],
        "to_delete_refresh": sizes["dormant"] + revoked // 2,
    }


@contextmanager
def _indexes_rebuilt(cursor, tables: list[str]):
    """Drop the tables' secondary indexes and constraints, and make them again after.

    Building an index once from sorted rows is many times faster than updating it
    for each of a million random checksums; the benchmark's database only.
    """
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) "
        "AND contype IN ('u', 'f')",
        [[f'"{table}"' for table in tables]],
    )
    constraints = cursor.fetchall()
    # Checks still pending in this transaction would forbid ALTER TABLE.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declares them


def explain() -> list[dict]:
    """The plan of each sweep's first batch: the indexes it reads, any full scan."""
    from django.db import connection
    from django.utils import timezone

    from oauth_server.cleanup import batch_candidates, expired_token_sweeps

    plans = []
    for sweep in expired_token_sweeps(now=timezone.now()):
        queryset = batch_candidates(sweep=sweep, after=None, batch_size=10_000)
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        nodes = list(_nodes(plan[0]["Plan"]))
        scanned = {n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}
        plans.append(
            {
                "sweep": sweep.label,
                "table": sweep.model._meta.db_table,
                "indexes": sorted(
                    {n["Index Name"] for n in nodes if "Index Name" in n}
                ),
                # With the planner's row estimate: a full scan of an empty table
                # is the cheapest plan, not a problem.
                "full_scans": {name: _estimated_rows(name) for name in sorted(scanned)},
            }
        )
    return plans


def _estimated_rows(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        (rows,) = cursor.fetchone()
    return max(0, int(rows))


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def main(argv: list[str]) -> object:
    command = argv[0]
    if command == "grow":
        return grow(int(argv[1]))
    if command == "explain":
        return explain()
    if command == "count":
        return counts()
    raise SystemExit(f"unknown command {command!r}: grow <total> | explain | count")


if __name__ == "__main__":
    django.setup()
    json.dump(main(sys.argv[1:]), sys.stdout)
