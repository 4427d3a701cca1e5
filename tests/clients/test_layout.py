"""`clients/` is a third party: what it may import, who reads `CLIENT_*`, timeouts."""

import ast
import sys
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
FILES = sorted(CLIENTS.rglob("*.py"))
# STYLE.md §2.1 plus what the issue asks for: jwcrypto verifies ID tokens, and the
# web client is a Django project of its own (Django, never our server packages).
ALLOWED = {"requests", "jwcrypto", "clients"}
ALLOWED_IN_WEB = ALLOWED | {"django"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def rel(path: Path) -> str:
    return str(path.relative_to(CLIENTS.parent))


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_imports_only_stdlib_requests_jwcrypto_and_itself(path):
    allowed = ALLOWED_IN_WEB if "web" in path.relative_to(CLIENTS).parts else ALLOWED
    foreign = {n for n in imports(path) if n not in sys.stdlib_module_names}
    assert foreign <= allowed


def test_only_config_reads_the_environment():
    readers = [
        rel(p)
        for p in FILES
        if p.name != "config.py"
        and ("environ.get" in p.read_text() or "getenv" in p.read_text())
    ]
    assert readers == []


def test_every_http_call_has_a_timeout():
    """Every call to `requests` or a session's request methods passes `timeout`."""
    methods = {"get", "post", "put", "patch", "delete", "head", "request"}
    missing = []
    for path in FILES:
        for node in ast.walk(tree(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in methods
                and ast.unparse(node.func.value) in {"requests", "http", "self.http"}
                and "timeout" not in {k.arg for k in node.keywords}
            ):
                missing.append(f"{rel(path)}:{node.lineno}")
    assert missing == []
