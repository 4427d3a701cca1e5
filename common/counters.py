"""One-row counters that tell every process a cached answer went stale.

A process-local cache (no Redis) cannot be told of another process's write, so
the writer moves a counter row in its own transaction and each reader compares
the counter it cached under with the row's current value. The read is on every
request, so it is one primary-key query through the cursor: the ORM's query
building costs several times the query itself here.
"""

from django.db import connection
from django.db.models import F, Model


def counter_read(model: type[Model], pk: int) -> int:
    """The counter's current value (0 before its row exists)."""
    quote = connection.ops.quote_name
    meta = model._meta
    sql = "SELECT {} FROM {} WHERE {} = %s".format(  # noqa: S608 (names, not input)
        quote(meta.get_field("value").column),
        quote(meta.db_table),
        quote(meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    return row[0] if row else 0


def counter_advance(model: type[Model], pk: int) -> None:
    """Move the counter by one in the current transaction, making its row if gone."""
    rows = model._default_manager.filter(pk=pk)
    if not rows.update(value=F("value") + 1):
        model._default_manager.get_or_create(pk=pk)
        rows.update(value=F("value") + 1)
