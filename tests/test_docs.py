"""The README and docs/ name only things that exist.

Every relative link resolves (file and heading), every repository path written in
backticks exists, every `make` target is in the Makefile, every `manage.py` command
is a management command, and every `python -m` module imports.
"""

import importlib.util
import re
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.S | re.M)
# Top-level folders of the repository: a backticked path starting with one is a path.
TOP = "|".join(
    re.escape(path.name)
    for path in ROOT.iterdir()
    if path.is_dir() and not path.name.startswith(".") and path.name != "var"
)
PATH = re.compile(rf"^(?:\./)?((?:{TOP})/[\w./-]*)$")
MAKE = re.compile(r"\bmake ([a-z][\w-]*)")
MANAGE = re.compile(r"manage\.py ([a-z_]+)")
MODULE = re.compile(r"python3? -m ([\w.]+)")


def text_of(doc: Path) -> str:
    return doc.read_text(encoding="utf-8")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    heading = heading.strip().lower().replace("`", "")
    heading = re.sub(r"[^\w\- ]", "", heading)
    return heading.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in text_of(doc).splitlines()
        if line.startswith("#")
    }


def everything_said() -> str:
    return "\n".join(text_of(doc) for doc in DOCS)


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_links_resolve(doc):
    for target in LINK.findall(text_of(doc)):
        if re.match(r"[a-z]+:", target) or target.startswith("/"):
            continue  # a URL, or a path on the running server
        name, _, anchor = target.partition("#")
        linked = (doc.parent / name).resolve() if name else doc
        assert linked.exists(), f"{doc.name}: {target}"
        if anchor:
            assert anchor in anchors(linked), f"{doc.name}: {target}"


def test_named_paths_exist():
    named = {
        match.group(1)
        for code in CODE.findall(everything_said())
        if (match := PATH.match(code.split()[0]))
    }
    assert named  # the pattern finds the paths the docs name
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = set(MAKE.findall(everything_said()))
    assert named
    assert named <= targets, sorted(named - targets)


def test_management_commands_exist():
    named = set(MANAGE.findall(everything_said()))
    assert named
    assert named <= set(get_commands()), sorted(named - set(get_commands()))


def test_python_modules_exist():
    named = set(MODULE.findall(everything_said()))
    assert named
    missing = [name for name in named if importlib.util.find_spec(name) is None]
    assert not missing


def test_front_page_stays_short():
    """The README is a front page; the rest lives in docs/."""
    assert len(text_of(ROOT / "README.md").splitlines()) <= 160
