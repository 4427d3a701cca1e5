"""`common.db`: statements sent in the round trip of a model's INSERT."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common import db
from oauth_server.models import AuditEvent, BearerCacheEpoch

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's simple query protocol"
)


def event(name: str) -> AuditEvent:
    return AuditEvent(event=name, details={"n": name}, address="192.0.2.1")


def test_the_insert_statement_stores_what_save_would():
    sql, params = db.insert_statement(event("a"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    saved = event("b")
    saved.save(force_insert=True)

    stored = AuditEvent.objects.get(event="a")
    assert stored.created is not None
    assert (stored.details, stored.address) == ({"n": "a"}, saved.address)


@postgresql_only
def test_the_statements_ride_with_the_insert():
    along = [db.insert_statement(event("along"))]
    with (
        CaptureQueriesContext(connection) as captured,
        db.ride_along(AuditEvent, along),
    ):
        first = event("first")
        first.save(force_insert=True)

    [sent] = [query["sql"] for query in captured.captured_queries]
    assert sent.count("INSERT INTO") == 2
    assert first.pk is not None  # read back from the first statement's RETURNING
    assert set(AuditEvent.objects.values_list("event", flat=True)) == {
        "first",
        "along",
    }


@postgresql_only
def test_without_that_insert_the_statements_go_on_their_own():
    with db.ride_along(AuditEvent, [db.insert_statement(event("alone"))]):
        BearerCacheEpoch.objects.create(pk=99)  # another table's INSERT

    assert AuditEvent.objects.filter(event="alone").exists()


@postgresql_only
def test_a_block_that_raises_sends_nothing():
    along = [db.insert_statement(event("lost"))]
    with pytest.raises(LookupError), db.ride_along(AuditEvent, along):
        raise LookupError

    assert not AuditEvent.objects.exists()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's driver")
def test_other_databases_are_refused():
    with pytest.raises(NotImplementedError), db.ride_along(AuditEvent, []):
        pass
