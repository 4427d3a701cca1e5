"""Each top-level package imports only what STYLE.md §2.1 allows it to."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level modules it must not import (prefix match)
FORBIDDEN = {
    "common": ("oauth_server", "resources", "clients", "config", "ops"),
    "oauth_server": ("resources", "clients", "config", "ops"),
    "resources": ("clients", "config", "ops"),
    "ops": ("resources", "clients", "config"),
    "clients": (
        "oauth_server",
        "resources",
        "config",
        "oauth2_provider",
        "rest_framework",
    ),
    # The cluster launcher starts the server as processes; it may read the
    # plain key helpers (oauth_server.keys), not the server's Django code.
    "deploy": ("resources", "clients", "config", "ops"),
    # The MCP server speaks HTTP to the authorization server and the API, like a
    # third party; of config/ it reads only its settings (config.mcp).
    "mcp_server": (
        "oauth_server",
        "resources",
        "clients",
        "ops",
        "common",
        "django",
        "rest_framework",
        "oauth2_provider",
        "config.settings",
        "config.urls",
    ),
}
# resources may use only the scope registry from oauth_server
RESOURCES_ALLOWED_FROM_OAUTH_SERVER = {"oauth_server.scopes", "oauth_server"}


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "oauth_server":
                names += [f"oauth_server.{alias.name}" for alias in node.names]
            else:
                names.append(node.module)
    return names


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).exists() else []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_import_rules(package):
    """No package imports a package it must not depend on."""
    offenders = []
    for path in python_files(package):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in FORBIDDEN[package] or name in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
            if (
                package == "resources"
                and top == "oauth_server"
                and name not in RESOURCES_ALLOWED_FROM_OAUTH_SERVER
            ):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_only_settings_reads_the_environment():
    """Server code reads the environment in config/settings.py (gunicorn: its config;
    the MCP server: config/mcp.py)."""
    readers = []
    for package in (
        "common",
        "oauth_server",
        "resources",
        "ops",
        "config",
        "mcp_server",
    ):
        for path in python_files(package):
            text = path.read_text()
            if path.name in (
                "settings.py",
                "wsgi.py",
                "asgi.py",
                "gunicorn.py",
                "mcp.py",
            ):
                continue
            if "os.environ" in text or "getenv(" in text or "environ.Env" in text:
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_scopes_registry_has_no_django_import():
    assert not any(
        name.startswith("django")
        for name in imported_modules(ROOT / "oauth_server/scopes.py")
    )


def test_no_private_dot_backend_calls():
    """Our code uses OAuthLibCore's public methods, never its private helpers."""
    from oauth2_provider.oauth2_backends import OAuthLibCore

    private = {
        name
        for name in vars(OAuthLibCore)
        if name.startswith("_") and not name.startswith("__")
    }
    calls = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.attr}"
        for package in ("oauth_server", "resources")
        for path in python_files(package)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in private
    ]
    assert private
    assert calls == []
