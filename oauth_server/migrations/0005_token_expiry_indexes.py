"""Indexes that let `cleartokens` find expired rows without scanning DOT's tables.

DOT's tables have no index on `expires` (nor on `revoked`). On PostgreSQL the
indexes are built CONCURRENTLY, so running this migration while other instances
serve traffic does not block writes to the token tables.
"""

from django.db import migrations
from oauth2_provider.settings import oauth2_settings

INDEXES = [
    # (index name, model label, column)
    ("oauth_server_at_expires_idx", oauth2_settings.ACCESS_TOKEN_MODEL, "expires"),
    ("oauth_server_rt_revoked_idx", oauth2_settings.REFRESH_TOKEN_MODEL, "revoked"),
    ("oauth_server_idt_expires_idx", oauth2_settings.ID_TOKEN_MODEL, "expires"),
    ("oauth_server_grant_expires_idx", oauth2_settings.GRANT_MODEL, "expires"),
    ("oauth_server_dg_expires_idx", oauth2_settings.DEVICE_GRANT_MODEL, "expires"),
]


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def create_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for name, label, column in INDEXES:
        table = apps.get_model(label)._meta.db_table
        schema_editor.execute(
            f"CREATE INDEX{_concurrently(schema_editor)} IF NOT EXISTS {quote(name)} "
            f"ON {quote(table)} ({quote(column)})"
        )


def drop_indexes(apps, schema_editor):
    for name, _label, _column in INDEXES:
        schema_editor.execute(
            f"DROP INDEX{_concurrently(schema_editor)} IF EXISTS "
            f"{schema_editor.quote_name(name)}"
        )


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("oauth_server", "0004_auth_time"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
