"""A new row and the statements that ride with it, in one PostgreSQL round trip.

A request that stores two rows in a transaction of its own costs four round
trips before the commit is even asked for: BEGIN, INSERT, INSERT, COMMIT. Sent
as one query string over PostgreSQL's simple query protocol (what psycopg's
client-side-binding cursor, Django's default, uses), the statements are one
round trip and one transaction: the server runs a multi-statement query as an
implicit transaction, all of it or none of it, so `SET LOCAL` applies to it too.

`insert_with` stores a new model instance that way, as `save(force_insert=True)`
would (its signals included), and `insert_statement` gives the INSERT of another
instance to send along. Django builds an INSERT's SQL text anew for every row,
about a tenth of a millisecond for two rows here; the text depends only on the
model, so it is built by Django's compiler once per model and kept, and only the
parameters are prepared per row, as the compiler prepares them. Only PostgreSQL:
SQLite's driver runs one statement per call.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

Statement = tuple[str, Sequence[object]]

# (database vendor, model, with RETURNING) -> the INSERT's SQL text.
_sql: dict[tuple[str, type[Model], bool], str] = {}


def _fields(model: type[Model]) -> list[Field]:
    """The fields `save()` inserts for a new row without a primary key yet."""
    meta = model._meta
    return [
        field
        for field in meta.local_concrete_fields
        if field is not meta.auto_field and not getattr(field, "generated", False)
    ]


def _compiled(instance: Model, fields: list[Field], returning: bool) -> Statement:
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    compiler = query.get_compiler(connection=connection)
    if returning:
        compiler.returning_fields = instance._meta.db_returning_fields
    [(sql, params)] = compiler.as_sql()
    return sql, tuple(params)


def insert_statement(instance: Model, *, returning: bool = False) -> Statement:
    """The INSERT that `instance.save(force_insert=True)` sends for a new row.

    Fields are prepared as `save()` prepares them (`auto_now_add` and the like
    set on the instance). Without `returning` no primary key is read back, and
    the instance keeps none.
    """
    if instance.pk is not None:
        raise ValueError("insert_statement stores new rows, without a primary key")
    fields = _fields(type(instance))
    values = [field.pre_save(instance, add=True) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        return _compiled(instance, fields, returning)  # expressions: Django's way
    key = (connection.vendor, type(instance), returning)
    sql = _sql.get(key)
    if sql is None:
        sql = _sql[key] = _compiled(instance, fields, returning)[0]
    params = tuple(
        field.get_db_prep_save(value, connection=connection)
        for field, value in zip(fields, values, strict=True)
    )
    return sql, params


def insert_with(instance: Model, along: Sequence[Statement] = ()) -> None:
    """Store a new `instance`, and send `along` in the same query string.

    What `save(force_insert=True)` does for a model without parents: pre_save
    and post_save are sent, the primary key read back, the instance marked
    stored. The INSERT comes first, so its RETURNING row is the cursor's
    result. In autocommit mode the string is one transaction; inside `atomic()`
    it joins the open one.
    """
    if connection.vendor != "postgresql":
        raise NotImplementedError(
            "insert_with needs PostgreSQL's simple query protocol"
        )
    model = type(instance)
    using = connection.alias
    pre_save.send(
        sender=model, instance=instance, raw=False, using=using, update_fields=None
    )
    statements = [insert_statement(instance, returning=True), *along]
    with connection.cursor() as cursor:
        cursor.execute(
            "; ".join(sql for sql, _ in statements),
            [value for _, params in statements for value in params],
        )
        row = cursor.fetchone()
    for field, value in zip(model._meta.db_returning_fields, row, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using
    post_save.send(
        sender=model,
        instance=instance,
        created=True,
        update_fields=None,
        raw=False,
        using=using,
    )
