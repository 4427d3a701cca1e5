"""The German catalogue: complete, compiled, and in step with the source.

Pure Python (Babel), so these run without GNU gettext: the strings are extracted
from the templates through Django's own `templatize` and from the Python modules,
with the keywords `makemessages` uses.
"""

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
# What `make messages` reads: the server's packages, not the sample client (a third
# party), the tests or the tools.
PACKAGES = ("oauth_server", "resources", "common", "config", "ops")
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
# makemessages' xgettext keywords (django/core/management/commands/makemessages.py).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")

Key = tuple[str | None, str | tuple[str, ...]]


def po_path(language: str) -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / "django.po"


def key_of(message) -> Key:
    context = message.context
    if isinstance(context, bytes):  # Babel's read_mo leaves contexts undecoded
        context = context.decode()
    msgid = message.id if isinstance(message.id, str) else tuple(message.id)
    return context, msgid


def entries(catalog: Catalog) -> dict[Key, str | tuple[str, ...]]:
    """msgid (with context) -> translation, header left out."""
    return {
        key_of(m): m.string if isinstance(m.string, str) else tuple(m.string)
        for m in catalog
        if m.id
    }


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as po:
        return read_po(po, locale=language)


def extracted(source: bytes) -> set[Key]:
    """The msgids marked in Python source (or a template `templatize` turned into it)."""
    found = set()
    for _line, message, _comments, context in extract(
        "python", io.BytesIO(source), keywords=KEYWORDS
    ):
        found.add((context, message if isinstance(message, str) else tuple(message)))
    return found


def source_files(pattern: str) -> list[Path]:
    return sorted(
        path for package in PACKAGES for path in (ROOT / package).rglob(pattern)
    )


def source_messages() -> set[Key]:
    """Every msgid marked in the server's templates and Python modules."""
    found = set()
    for path in source_files("*.html"):
        text = templatize(path.read_text(), origin=str(path))
        # Python-like, not Python: indentation left from the HTML would stop the
        # tokenizer. The calls hold their strings on one line, escaped.
        code = "\n".join(line.lstrip() for line in text.splitlines())
        found |= extracted(code.encode())
    for path in source_files("*.py"):
        if "migrations" not in path.parts:
            found |= extracted(path.read_bytes())
    return found


def test_the_extractor_sees_templates_and_python():
    """The extraction below finds strings of both kinds, so its checks can fail."""
    found = source_messages()
    assert (None, "Sign in") in found  # templates
    assert (None, "See your email address") in found  # scopes.py
    assert ("time ago", ("%(num)d day", "%(num)d days")) in found  # npgettext_lazy
    assert len(found) > 100


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_is_complete(language):
    """Every msgid is translated (every plural form), none fuzzy, none obsolete."""
    catalog = read_catalog(language)
    assert not catalog.fuzzy, "the header is marked fuzzy: plural forms are lost"
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string if isinstance(m.string, str) else not all(m.string))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert list(catalog.obsolete) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_matches_the_source(language):
    """Every marked string is in the catalogue, and the catalogue holds no others.

    Fails after a page's text changed without `make messages` (docs/contributing.md).
    """
    in_source = source_messages()
    in_catalogue = set(entries(read_catalog(language)))
    assert sorted(in_source - in_catalogue, key=str) == []
    assert sorted(in_catalogue - in_source, key=str) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language):
    """A translation names the same %(name)s and {name} placeholders as its msgid."""
    broken = []
    for (_context, msgid), string in entries(read_catalog(language)).items():
        sources = [msgid] if isinstance(msgid, str) else list(msgid)
        strings = [string] if isinstance(string, str) else list(string)
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != wanted:
                broken.append((msgid, text))
    assert broken == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_committed_mo_matches_the_po(language):
    """The compiled catalogue Django loads says what the .po says (`make messages`)."""
    mo_path = po_path(language).with_suffix(".mo")
    with mo_path.open("rb") as mo:
        compiled = read_mo(mo)
    assert entries(compiled) == entries(read_catalog(language))
