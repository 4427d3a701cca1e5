"""Statements that ride in the same PostgreSQL round trip as an INSERT.

A request that stores two rows in a transaction of its own costs four round
trips before the commit is even asked for: BEGIN, INSERT, INSERT, COMMIT. Sent
as one query string over PostgreSQL's simple query protocol (what psycopg's
client-side-binding cursor, Django's default, uses), the statements are one
round trip and one transaction: the server runs a multi-statement query as an
implicit transaction, all of it or none of it, so `SET LOCAL` applies to it too.

`ride_along` appends statements to the next INSERT into a model's table that
Django sends, leaving the ORM to build and send that INSERT (with its RETURNING)
as usual, so model `save()`, its signals and the returned primary key are all
Django's. Only PostgreSQL: SQLite's driver runs one statement per call.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection
from django.db.models import Model
from django.db.models.sql import InsertQuery

Statement = tuple[str, Sequence[object]]


def insert_statement(instance: Model) -> Statement:
    """The INSERT that `instance.save(force_insert=True)` sends, minus RETURNING.

    Fields are prepared as `save()` prepares them (`auto_now_add` and the like
    set on the instance); the instance keeps no primary key, as none is read back.
    """
    meta = instance._meta
    fields = [
        field
        for field in meta.local_concrete_fields
        if not (field is meta.auto_field and instance.pk is None)
        and not getattr(field, "generated", False)
    ]
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


@contextmanager
def ride_along(model: type[Model], statements: Sequence[Statement]) -> Iterator[None]:
    """Send `statements` with the next INSERT into `model`'s table in this block.

    The INSERT comes first in the query string, so its RETURNING row is the
    cursor's current result, as Django expects. In autocommit mode the whole
    string is one transaction; inside `atomic()` it joins the open one. If the
    block sends no such INSERT (it raised before, or the code changed), the
    statements are sent on their own when the block ends without an error:
    they are never dropped.
    """
    if connection.vendor != "postgresql":
        raise NotImplementedError("ride_along needs PostgreSQL's simple query protocol")
    prefix = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} "
    pending = list(statements)

    def attach(execute, sql, params, many, context):
        if pending and not many and sql.startswith(prefix):
            sql = "; ".join([sql, *(text for text, _ in pending)])
            params = (*params, *(value for _, args in pending for value in args))
            pending.clear()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(attach):
        yield
    if pending:
        with connection.cursor() as cursor:
            for sql, params in pending:
                cursor.execute(sql, params)
