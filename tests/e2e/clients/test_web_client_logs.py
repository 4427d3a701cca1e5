"""The web client's own logs (runserver's access log included) keep the code out."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.clients.conftest import PASSWORD
from tests.e2e.clients.test_web_client import consent

pytestmark = pytest.mark.e2e


def test_callback_code_is_not_logged(world, visitor, web_client, issuer):
    """The callback's request line is logged with `code=[redacted]` (RFC 9700
    §4.3.2 reasoning: URLs end up in logs)."""
    page = visitor.get(f"{web_client.url}/login")
    page = visitor.submit(
        page,
        visitor.form(page, has="username"),
        {"username": "alice", "password": PASSWORD},
    )
    redirect = consent(visitor, page, follow=False)
    callback = redirect.headers["Location"]
    code = parse_qs(urlsplit(callback).query)["code"][0]

    home = visitor.get(callback)

    assert "Welcome, Ada Lovelace" in home.text
    log = (web_client.var_dir / "server.log").read_text()
    assert "GET /callback?code=[redacted]&state=" in log
    assert code not in log
