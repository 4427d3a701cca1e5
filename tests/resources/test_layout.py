"""The layout rules for the resource API, checked on the source with `ast`."""

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from oauth_server import scopes

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> list[Path]:
    return sorted(
        p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts
    )


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("path", _modules("resources"), ids=str)
def test_resources_import_only_the_scopes_registry_from_oauth_server(path):
    """`resources` may use `oauth_server.scopes` and nothing else of `oauth_server`."""
    bad = {
        name
        for name in _imports(path)
        if (name.startswith("oauth_server.") and name != "oauth_server.scopes")
        or name.startswith("clients")
    }
    assert not bad


@pytest.mark.parametrize("path", _modules("oauth_server"), ids=str)
def test_oauth_server_does_not_import_resources(path):
    """The authorization server knows nothing of the resource API."""
    assert not {n for n in _imports(path) if n.split(".")[0] == "resources"}


@pytest.mark.parametrize("path", _modules("resources"), ids=str)
def test_resources_name_scopes_through_the_registry(path):
    """No scope is spelled as a string literal in `resources`."""
    literals = {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not literals & set(scopes.SCOPES)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_schema_generates_without_warnings(db, version):
    """drf-spectacular produces a valid schema for each version, with no warnings."""
    out = StringIO()
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--api-version",
        version,
        stdout=out,
    )
    assert f"/api/{version}/books/" in out.getvalue()
