"""The demo catalogue loader."""

from io import StringIO

import pytest
from django.core.management import call_command

from resources.models import Author, Book, Review
from tests.factories import UserFactory


@pytest.fixture
def demo_user(db):
    return UserFactory(username="demo")


def test_loadbooks_is_idempotent_and_valid(demo_user):
    """Two runs give the same catalogue; every book passes full validation."""
    call_command("loadbooks", stdout=StringIO())
    counts = (Author.objects.count(), Book.objects.count(), Review.objects.count())
    call_command("loadbooks", stdout=StringIO())

    assert (
        Author.objects.count(),
        Book.objects.count(),
        Review.objects.count(),
    ) == counts
    assert 20 <= counts[1] <= 30
    for book in Book.objects.select_related("author"):
        book.full_clean()


def test_loadbooks_lets_demo_edit(demo_user):
    """The demo user may read and edit the catalogue after loading."""
    call_command("loadbooks", stdout=StringIO())
    demo = type(demo_user).objects.get(pk=demo_user.pk)

    assert demo.has_perm("resources.can_read_book")
    assert demo.has_perm("resources.can_edit_book")
