"""docs/production.md names every variable, command and file that exists, and no other."""

import re
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "production.md").read_text()


def variables_read() -> set[str]:
    settings = (ROOT / "config" / "settings.py").read_text()
    gunicorn = (ROOT / "config" / "gunicorn.py").read_text()
    return set(
        re.findall(r'env\.(?:str|int|bool|list|db_url)\(\s*"([A-Z_]+)"', settings)
    ) | set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', gunicorn))


def test_every_variable_is_in_the_tables():
    """Each variable the server reads has a row in the guide's tables."""
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", GUIDE, re.MULTILINE))

    assert len(variables_read()) > 40  # the pattern still finds them
    assert variables_read() - rows == set()
    assert rows - variables_read() == set()


@pytest.mark.parametrize("command", sorted(set(re.findall(r"manage\.py (\w+)", GUIDE))))
def test_named_commands_exist(command):
    assert command in get_commands()


@pytest.mark.parametrize(
    "path",
    sorted(
        set(
            re.findall(r"`((?:config|oauth_server|ops|tests|docs)/[\w/.]+\.py)`", GUIDE)
        )
    ),
)
def test_named_files_exist(path):
    assert (ROOT / path).is_file()


def test_make_serve_exists():
    assert re.search(r"^serve:", (ROOT / "Makefile").read_text(), re.MULTILINE)
