"""Reads of the API run in no transaction; each write runs in exactly one."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from resources import selectors, services
from resources.models import Book
from tests.factories import AuthorFactory, UserFactory, isbn13

V1 = {"version": "v1"}


@pytest.fixture
def writer(transactional_db):
    """A user holding the catalogue permissions directly: with real commits the
    database is flushed between tests, and the groups of the data migration go."""
    user = UserFactory(username="writer")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["can_read_book", "can_edit_book"])
    )
    return user


@pytest.fixture
def seen(monkeypatch):
    """Records whether the book selector ran inside a transaction."""
    record = []
    real = selectors.book_list

    def spy(**kwargs):
        record.append(connection.in_atomic_block)
        return real(**kwargs)

    monkeypatch.setattr(selectors, "book_list", spy)
    return record


@pytest.mark.django_db(transaction=True)
def test_list_runs_outside_any_transaction(client_for, writer, seen):
    """No BEGIN for a read (on SQLite an IMMEDIATE one would take the write lock)."""
    assert (
        client_for(writer).get(reverse("api:book-list", kwargs=V1)).status_code == 200
    )

    assert seen == [False]


@pytest.mark.django_db(transaction=True)
def test_write_and_its_read_back_share_one_transaction(client_for, writer, seen):
    """The write and the view's read after it run in the request's transaction."""
    payload = {
        "title": "T",
        "author": AuthorFactory().pk,
        "publication_date": "2000-01-01",
        "price": "1.00",
        "isbn": isbn13(7),
    }
    response = client_for(writer).post(
        reverse("api:book-list", kwargs=V1), payload, format="json"
    )

    assert response.status_code == 201
    assert seen
    assert all(seen)


@pytest.mark.django_db(transaction=True)
def test_failed_write_is_rolled_back_without_a_test_transaction(
    client_for, writer, monkeypatch
):
    """With real commits (no test transaction around it), a write that fails after
    its service committed its part leaves nothing behind."""
    real_create = services.book_create

    def create_then_fail(**kwargs):
        real_create(**kwargs)
        raise services.ValidationError("Something downstream refused.")

    monkeypatch.setattr(services, "book_create", create_then_fail)
    payload = {
        "title": "Half",
        "author": AuthorFactory().pk,
        "publication_date": "2000-01-01",
        "price": "1.00",
        "isbn": isbn13(8),
    }
    response = client_for(writer).post(
        reverse("api:book-list", kwargs=V1), payload, format="json"
    )

    assert response.status_code == 400
    assert not Book.objects.exists()
