"""`manage.py loadbooks`: demo authors, books and reviews (idempotent).

Also puts the `demo` user (made by `loaddemo`) in the catalogue editors group.
"""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from resources import groups
from resources.models import Author, Book, Review
from resources.validators import isbn13_check_digit

AUTHORS = {
    "Jane Austen": date(1775, 12, 16),
    "Charles Dickens": date(1812, 2, 7),
    "Mary Shelley": date(1797, 8, 30),
    "Herman Melville": date(1819, 8, 1),
    "Leo Tolstoy": date(1828, 9, 9),
    "George Eliot": date(1819, 11, 22),
    "Fyodor Dostoevsky": date(1821, 11, 11),
    "Mark Twain": date(1835, 11, 30),
    "Virginia Woolf": date(1882, 1, 25),
}

# (title, author, edition date, price, first 12 ISBN digits; the check digit is computed)
BOOKS = [
    ("Pride and Prejudice", "Jane Austen", date(2003, 1, 30), "8.99", "978014143951"),
    ("Emma", "Jane Austen", date(2003, 4, 29), "9.99", "978014143958"),
    ("Persuasion", "Jane Austen", date(2003, 4, 29), "7.99", "978014143968"),
    ("Sense and Sensibility", "Jane Austen", date(2003, 4, 29), "8.49", "978014143966"),
    (
        "Great Expectations",
        "Charles Dickens",
        date(2002, 12, 31),
        "9.49",
        "978014143956",
    ),
    ("Bleak House", "Charles Dickens", date(2003, 2, 25), "12.99", "978014143972"),
    (
        "A Tale of Two Cities",
        "Charles Dickens",
        date(2003, 3, 27),
        "8.99",
        "978014143960",
    ),
    ("Oliver Twist", "Charles Dickens", date(2003, 4, 29), "7.49", "978014143974"),
    ("Frankenstein", "Mary Shelley", date(2003, 1, 30), "6.99", "978014143947"),
    ("The Last Man", "Mary Shelley", date(2008, 3, 1), "14.50", "978019955234"),
    ("Moby-Dick", "Herman Melville", date(2003, 2, 25), "11.99", "978014243724"),
    (
        "Bartleby and Benito Cereno",
        "Herman Melville",
        date(1990, 11, 1),
        "4.00",
        "978048626473",
    ),
    ("War and Peace", "Leo Tolstoy", date(2007, 10, 14), "22.00", "978140007998"),
    ("Anna Karenina", "Leo Tolstoy", date(2002, 6, 1), "16.00", "978014303500"),
    (
        "The Death of Ivan Ilyich",
        "Leo Tolstoy",
        date(2009, 5, 5),
        "10.95",
        "978030738886",
    ),
    ("Middlemarch", "George Eliot", date(2003, 4, 29), "10.99", "978014143954"),
    ("Silas Marner", "George Eliot", date(2003, 2, 25), "6.99", "978014143975"),
    (
        "Crime and Punishment",
        "Fyodor Dostoevsky",
        date(2003, 1, 30),
        "10.99",
        "978014044913",
    ),
    (
        "The Brothers Karamazov",
        "Fyodor Dostoevsky",
        date(2002, 6, 14),
        "18.00",
        "978037452837",
    ),
    ("The Idiot", "Fyodor Dostoevsky", date(2004, 7, 1), "12.99", "978014044792"),
    (
        "Adventures of Huckleberry Finn",
        "Mark Twain",
        date(2002, 12, 31),
        "8.00",
        "978014243717",
    ),
    (
        "The Adventures of Tom Sawyer",
        "Mark Twain",
        date(2006, 9, 1),
        "7.00",
        "978014303956",
    ),
    ("Mrs Dalloway", "Virginia Woolf", date(2000, 6, 29), "9.99", "978014118249"),
    ("To the Lighthouse", "Virginia Woolf", date(2000, 6, 29), "9.99", "978014118341"),
    ("Orlando", "Virginia Woolf", date(2000, 6, 29), "10.49", "978014118427"),
]

REVIEWS = [
    ("Pride and Prejudice", "reader-ann", 5, "Sharp, funny and warm."),
    ("Pride and Prejudice", "reader-ben", 4, "Better on the second reading."),
    ("Moby-Dick", "reader-ann", 3, "The whale chapters are a commitment."),
    ("Frankenstein", "reader-ben", 5, "Nothing like the films."),
    ("Middlemarch", "reader-ann", 5, "For grown-ups, as Woolf said."),
    ("Crime and Punishment", "reader-ben", 4, "Feverish in the best way."),
    ("Mrs Dalloway", "reader-ben", 2, "A day I could not get into."),
]


def complete_isbn13(first12: str) -> str:
    """Append the ISBN-13 check digit to twelve digits."""
    return first12 + isbn13_check_digit(first12)


class Command(BaseCommand):
    help = "Load demo authors, books and reviews (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        editors = Group.objects.get(name=groups.EDITORS)
        readers = Group.objects.get(name=groups.READERS)
        demo = User.objects.filter(username="demo").first()
        if demo is not None:
            demo.groups.add(editors)

        authors = {
            name: Author.objects.get_or_create(name=name, birth_date=born)[0]
            for name, born in AUTHORS.items()
        }
        books = {}
        for title, author, published, price, isbn12 in BOOKS:
            books[title], _ = Book.objects.get_or_create(
                isbn=complete_isbn13(isbn12),
                defaults={
                    "title": title,
                    "author": authors[author],
                    "publication_date": published,
                    "price": Decimal(price),
                    "summary": f"{title}, by {author}.",
                    "created_by": demo,
                },
            )
        for title, username, rating, text in REVIEWS:
            reader, created = User.objects.get_or_create(username=username)
            if created:
                reader.set_unusable_password()
                reader.save()
            reader.groups.add(readers)
            Review.objects.get_or_create(
                book=books[title],
                user=reader,
                defaults={"rating": rating, "text": text},
            )
        self.stdout.write(
            f"Demo catalogue: {Author.objects.count()} authors, "
            f"{Book.objects.count()} books, {Review.objects.count()} reviews."
        )
