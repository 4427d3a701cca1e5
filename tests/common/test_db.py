"""`common.db`: a new row and the statements riding with it, in one round trip."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from common import db
from oauth_server.models import AuditEvent

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's simple query protocol"
)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def event(name: str) -> AuditEvent:
    return AuditEvent(event=name, details={"n": name}, address="192.0.2.1")


def access_token(application) -> object:
    return get_access_token_model()(
        application=application,
        token="not-a-real-token",
        token_checksum="0" * 64,
        scope="books:read",
        expires=NOW + timedelta(hours=1),
        resource=["https://api.example"],
    )


def comparable(params) -> list:
    """Parameters with psycopg's JSON wrappers (no __eq__) unwrapped."""
    return [
        (type(value).__name__, value.obj) if hasattr(value, "obj") else value
        for value in params
    ]


def test_the_insert_statement_stores_what_save_would():
    sql, params = db.insert_statement(event("a"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    saved = event("b")
    saved.save(force_insert=True)

    stored = AuditEvent.objects.get(event="a")
    assert stored.created is not None
    assert (stored.details, stored.address) == ({"n": "a"}, saved.address)


@pytest.mark.parametrize("returning", [False, True])
@pytest.mark.parametrize("kind", ["event", "access token"])
def test_the_kept_sql_and_the_parameters_are_djangos(
    monkeypatch, machine_app, kind, returning
):
    """The SQL text kept per model and the parameters prepared per row are what
    Django's compiler builds for the same row (the clock stopped for both)."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    make = (
        (lambda: event("e")) if kind == "event" else lambda: access_token(machine_app)
    )
    db.insert_statement(make(), returning=returning)  # the SQL text kept

    instance = make()
    kept = db.insert_statement(instance, returning=returning)
    built = db._compiled(instance, db._fields(type(instance)), returning)

    assert kept[0] == built[0]
    assert comparable(kept[1]) == comparable(built[1])
    assert ("RETURNING" in kept[0]) is returning


@postgresql_only
def test_insert_with_stores_the_row_and_what_rides_along(machine_app):
    sent = []

    def saved(sender, instance, created, **kwargs):
        sent.append((instance.pk, created))

    token = access_token(machine_app)
    post_save.connect(saved, sender=type(token))
    try:
        with CaptureQueriesContext(connection) as captured:
            db.insert_with(token, [db.insert_statement(event("along"))])
    finally:
        post_save.disconnect(saved, sender=type(token))

    assert len(captured.captured_queries) == 1
    assert token.pk is not None
    assert not token._state.adding
    assert sent == [(token.pk, True)]
    stored = type(token).objects.get(pk=token.pk)
    assert (stored.scope, stored.resource) == ("books:read", ["https://api.example"])
    assert AuditEvent.objects.filter(event="along").exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_statement_that_fails_takes_the_row_with_it(machine_app):
    """Autocommit, as in production: the string is one transaction."""
    broken = event("broken")
    broken.user_id = 2**31 - 1  # no such user: the foreign key fails at commit
    token = access_token(machine_app)

    with pytest.raises(IntegrityError):
        db.insert_with(token, [db.insert_statement(broken)])

    assert not type(token).objects.filter(token_checksum="0" * 64).exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's driver")
def test_other_databases_are_refused(machine_app):
    with pytest.raises(NotImplementedError):
        db.insert_with(access_token(machine_app))
