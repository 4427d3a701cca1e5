"""Rules that live in one place, and unique values taken by a concurrent write."""

from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from oauth_server import personal_tokens
from oauth_server.models import PersonalAccessToken
from resources import services
from resources.management.commands.loadbooks import complete_isbn13
from resources.models import Author, Book
from resources.validators import isbn13_check_digit, validate_isbn13
from tests.factories import AuthorFactory, BookFactory, isbn13

ROOT = Path(__file__).resolve().parents[2]
# Application code, and the test factories (which make valid ISBNs).
SOURCES = [
    path
    for package in ("common", "oauth_server", "resources", "clients")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
] + [ROOT / "tests" / "factories.py"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("(3 if i % 2 else 1)", "resources/validators.py"),
        ("cannot appear before its author's birth", "resources/validators.py"),
        ("Enter a positive whole number.", "resources/pagination.py"),
        ("Unknown or read-only field.", "common/serializers.py"),
        ('f"{parts.scheme}://{parts.netloc}"', "clients/http.py"),
    ],
)
def test_each_rule_is_written_once(text, where):
    """The check digit, the birth rule, page size, unknown fields, a URL's origin."""
    holders = [str(p.relative_to(ROOT)) for p in SOURCES if text in p.read_text()]
    assert holders == [where]


@pytest.mark.parametrize(
    ("first12", "digit"),
    [("978030640615", "7"), ("978186197271", "2"), ("978000000000", "2")],
)
def test_isbn13_check_digit(first12, digit):
    assert isbn13_check_digit(first12) == digit
    assert complete_isbn13(first12) == first12 + digit
    validate_isbn13(first12 + digit)


def test_factory_isbns_use_the_same_check_digit():
    value = isbn13(42)
    assert value[12] == isbn13_check_digit(value[:12])


# --- the birth rule, through the API and through the service ----------------------


@pytest.fixture
def born_1950(db) -> Author:
    return AuthorFactory(birth_date=date(1950, 1, 1))


def test_api_refuses_a_book_before_its_authors_birth(client_for, editor, born_1950):
    response = client_for(editor).post(
        reverse("api:book-list", kwargs={"version": "v1"}),
        {
            "title": "Too early",
            "author": born_1950.pk,
            "publication_date": "1940-01-01",
            "price": "1.00",
            "isbn": isbn13(7),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "publication_date": ["A book cannot appear before its author's birth."]
    }


def test_service_refuses_a_book_before_its_authors_birth(born_1950):
    with pytest.raises(Exception, match="before its author's birth"):
        services.book_create(
            created_by=None,
            title="Too early",
            author=born_1950,
            publication_date=date(1940, 1, 1),
            price=1,
            isbn=isbn13(8),
        )


# --- shared page size and unknown-field rules --------------------------------------


@pytest.mark.parametrize("name", ["book-list", "author-list"])  # cursor, page number
@pytest.mark.parametrize("size", ["0", "-1", "ten"])
def test_bad_page_size_is_400_for_both_paginations(client_for, reader, name, size):
    response = client_for(reader).get(
        reverse(f"api:{name}", kwargs={"version": "v1"}), {"page_size": size}
    )
    assert response.status_code == 400
    assert response.json() == {"page_size": ["Enter a positive whole number."]}


def test_personal_token_refuses_unknown_fields(api_client, reader):
    api_client.force_login(reader)
    response = api_client.post(
        reverse("api:personal-token-list", kwargs={"version": "v1"}),
        {"name": "x", "scope": "books:read", "hint": "mine", "colour": "red"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "colour": ["Unknown or read-only field."],
        "hint": ["Unknown or read-only field."],
    }


# --- unique values taken between validation and the write -------------------------


def test_concurrent_personal_token_name_is_400(api_client, reader, monkeypatch):
    """A token of the same name appears after the check: 400, not a 500."""
    real = personal_tokens.set_token_value

    def racing(access_token, raw):
        real(access_token, raw)
        monkeypatch.setattr(personal_tokens, "set_token_value", real)
        personal_tokens.personal_token_create(
            user=reader, name="laptop", scope="books:read"
        )

    monkeypatch.setattr(personal_tokens, "set_token_value", racing)
    api_client.force_login(reader)
    response = api_client.post(
        reverse("api:personal-token-list", kwargs={"version": "v1"}),
        {"name": "laptop", "scope": "books:read"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"name": ["You already have a token with this name."]}
    # The rival ran in this request's transaction here, so both roll back.
    assert not PersonalAccessToken.objects.filter(user=reader, name="laptop").exists()


def racing_full_clean(model, monkeypatch, make_conflict) -> None:
    """`model.full_clean` passes, then a concurrent writer takes the value."""
    real = model.full_clean

    def full_clean(self, *args, **kwargs):
        real(self, *args, **kwargs)
        monkeypatch.setattr(model, "full_clean", real)  # the rival validates normally
        make_conflict()

    monkeypatch.setattr(model, "full_clean", full_clean)


def test_concurrent_author_update_is_400(client_for, editor, monkeypatch):
    rival_name = "Ursula K. Le Guin"
    author = AuthorFactory(name="U. Le Guin", birth_date=date(1929, 10, 21))
    racing_full_clean(
        Author,
        monkeypatch,
        lambda: AuthorFactory(name=rival_name, birth_date=date(1929, 10, 21)),
    )
    response = client_for(editor).patch(
        reverse("api:author-detail", kwargs={"version": "v1", "pk": author.pk}),
        {"name": rival_name},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "already exists" in str(response.json())


@pytest.mark.parametrize("field", ["isbn", "title"])
def test_concurrent_book_update_is_400(client_for, editor, monkeypatch, field):
    book = BookFactory(title="Mine", isbn=isbn13(1))
    value = isbn13(2) if field == "isbn" else "Taken"
    racing_full_clean(
        Book,
        monkeypatch,
        lambda: BookFactory(author=book.author, **{field: value}),
    )
    response = client_for(editor).patch(
        reverse("api:book-detail", kwargs={"version": "v1", "pk": book.pk}),
        {field: value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "already" in str(response.json())
    book.refresh_from_db()
    assert getattr(book, field) != value
