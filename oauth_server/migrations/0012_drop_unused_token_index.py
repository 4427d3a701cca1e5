"""Drop the access-token index nothing reads: `token_checksum` for LIKE queries.

Django gives every indexed `CharField` on PostgreSQL a second, `varchar_pattern_ops`
index that serves only `LIKE 'prefix%'` (`startswith`, `contains`). Access tokens
are looked up by the whole checksum (the unique index), never by a prefix; the
second index only slows every token issued and every `cleartokens` batch, and costs
space (docs/performance.md lists each index of the token tables and its reader).
PostgreSQL only; dropped and rebuilt CONCURRENTLY, so not inside a transaction.
"""

from django.db import migrations
from oauth2_provider.settings import oauth2_settings

COLUMN = "token_checksum"


def _pattern_indexes(schema_editor, table: str) -> list[str]:
    """Names of the `varchar_pattern_ops` indexes on `table`'s checksum column."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexdef LIKE %s",
            [table, f"%({COLUMN} varchar_pattern_ops)%"],
        )
        return [name for (name,) in cursor.fetchall()]


def _table(apps) -> str:
    return apps.get_model(oauth2_settings.ACCESS_TOKEN_MODEL)._meta.db_table


def drop_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _pattern_indexes(schema_editor, _table(apps)):
        schema_editor.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}"
        )


def create_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = _table(apps)
    if _pattern_indexes(schema_editor, table):
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY {quote(f'{table}_{COLUMN}_like')} "
        f"ON {quote(table)} ({quote(COLUMN)} varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("oauth_server", "0011_token_delegation"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [
        migrations.RunPython(
            drop_pattern_index, create_pattern_index, elidable=False
        )
    ]
