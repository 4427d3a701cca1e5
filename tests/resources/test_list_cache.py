"""Catalogue list pages from the cache: served after every check, forgotten on any
change of the catalogue, in every process (resources/list_cache.py)."""

import pytest
from django.urls import reverse

from resources import selectors
from tests.factories import BookFactory, ReviewFactory

BOOKS = reverse("api:book-list", kwargs={"version": "v1"})
BOOKS_V2 = reverse("api:book-list", kwargs={"version": "v2"})
CHANGES = [
    lambda book: BookFactory(title="Dawn"),
    lambda book: setattr(book, "title", "Kindred (new edition)") or book.save(),
    lambda book: book.delete(),
    lambda book: ReviewFactory(book=book),
    lambda book: setattr(book.author, "name", "O. E. Butler") or book.author.save(),
]
CHANGE_IDS = [
    "book-added",
    "book-changed",
    "book-deleted",
    "review-added",
    "author-renamed",
]


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.CATALOGUE_CACHE_SECONDS = 60


@pytest.fixture
def built(monkeypatch):
    """How many times a book list was built from the database."""
    calls = []
    original = selectors.book_list

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(selectors, "book_list", counting)
    return calls


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [book["title"] for book in response.json()["results"]]


def test_the_same_page_is_built_once(client_for, reader, built):
    BookFactory(title="Kindred")
    api = client_for(reader, "books:read")

    first, second = api.get(BOOKS), api.get(BOOKS)

    assert titles(first) == titles(second) == ["Kindred"]
    assert first.json() == second.json()
    assert len(built) == 1


@pytest.mark.parametrize(
    ("url", "other"),
    [
        (BOOKS, BOOKS_V2),
        (BOOKS, f"{BOOKS}?search=Kindred"),
        (f"{BOOKS}?ordering=title", f"{BOOKS}?ordering=-title"),
    ],
)
def test_each_version_and_query_is_a_page_of_its_own(
    client_for, reader, built, url, other
):
    BookFactory(title="Kindred")
    BookFactory(title="Dawn")
    api = client_for(reader, "books:read")

    api.get(url)
    api.get(other)

    assert len(built) == 2


def test_each_media_type_is_a_page_of_its_own(client_for, reader, built):
    BookFactory(title="Kindred")
    api = client_for(reader, "books:read")

    as_json = api.get(BOOKS, HTTP_ACCEPT="application/json")
    as_xml = api.get(BOOKS, HTTP_ACCEPT="application/xml")

    assert as_json["Content-Type"].startswith("application/json")
    assert as_xml["Content-Type"].startswith("application/xml")
    assert len(built) == 2


@pytest.mark.parametrize("change", CHANGES, ids=CHANGE_IDS)
def test_any_change_of_the_catalogue_is_seen_at_once(client_for, reader, change):
    book = BookFactory(title="Kindred")
    api = client_for(reader, "books:read")
    before = api.get(BOOKS_V2).json()

    change(book)

    assert api.get(BOOKS_V2).json() != before


def test_a_write_through_the_api_is_read_back(client_for, editor):
    book = BookFactory(title="Kindred")
    api = client_for(editor)
    assert titles(api.get(BOOKS)) == ["Kindred"]

    changed = api.patch(
        reverse("api:book-detail", kwargs={"version": "v1", "pk": book.pk}),
        {"title": "Wild Seed"},
        format="json",
    )

    assert changed.status_code == 200, changed.content
    assert titles(api.get(BOOKS)) == ["Wild Seed"]


@pytest.mark.parametrize(
    ("who", "scope", "status"),
    [("reader", "books:write", 403), ("stranger", "books:read", 403), (None, "", 401)],
)
def test_a_cached_page_is_still_refused_to_whoever_may_not_read_it(
    client_for, api_client, reader, user, who, scope, status
):
    BookFactory(title="Kindred")
    assert titles(client_for(reader, "books:read").get(BOOKS)) == ["Kindred"]

    if who is None:
        response = api_client.get(BOOKS)
    else:
        response = client_for(reader if who == "reader" else user, scope).get(BOOKS)

    assert response.status_code == status
    assert "Kindred" not in response.content.decode()


def test_off_at_zero(client_for, reader, built, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    BookFactory(title="Kindred")
    api = client_for(reader, "books:read")

    api.get(BOOKS)
    api.get(BOOKS)

    assert len(built) == 2


# --- Local mode: no Redis, a cache per process, the generation in the database ----


@pytest.mark.parametrize("change", CHANGES, ids=CHANGE_IDS)
def test_a_change_made_in_another_process_is_seen_on_the_next_list(
    process, client_for, reader, built, change
):
    """Process "a" has the page; "b" changes the catalogue; "a" builds it again."""
    book = BookFactory(title="Kindred")
    api = client_for(reader, "books:read")
    with process("a"):
        before = api.get(BOOKS_V2).json()
        assert api.get(BOOKS_V2).json() == before
    assert len(built) == 1  # the second came from "a"'s cache

    with process("b"):
        change(book)

    with process("a"):
        assert api.get(BOOKS_V2).json() != before


def test_an_api_write_in_another_process_is_read_back_everywhere(
    process, client_for, reader, editor
):
    book = BookFactory(title="Kindred")
    api = client_for(reader, "books:read")
    for name in ("a", "b"):
        with process(name):
            assert titles(api.get(BOOKS)) == ["Kindred"]

    with process("b"):
        changed = client_for(editor).patch(
            reverse("api:book-detail", kwargs={"version": "v1", "pk": book.pk}),
            {"title": "Wild Seed"},
            format="json",
        )
        assert changed.status_code == 200, changed.content

    for name in ("a", "b"):
        with process(name):
            assert titles(api.get(BOOKS)) == ["Wild Seed"]


def test_a_cached_page_costs_one_query_for_the_generation(
    process, client_for, reader, built, django_assert_num_queries
):
    """With the bearer cache warm too: the epoch and the generation, nothing else."""
    BookFactory.create_batch(3)
    api = client_for(reader, "books:read")
    with process("a"):
        api.get(BOOKS)
        with django_assert_num_queries(2):  # bearer epoch, catalogue generation
            assert api.get(BOOKS).status_code == 200
    assert len(built) == 1


def test_with_a_shared_cache_a_cached_page_asks_the_database_nothing(
    settings, client_for, reader, built, django_assert_num_queries
):
    """Redis (`CACHE_SHARED`; locmem stands in for it on SQLite): a warm list is
    answered from the cache alone, bearer check and page."""
    settings.CACHE_SHARED = True
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_epoch_seconds": 300}
    BookFactory.create_batch(3)
    api = client_for(reader, "books:read")
    api.get(BOOKS)

    with django_assert_num_queries(0):
        assert api.get(BOOKS).status_code == 200
    assert len(built) == 1
