"""CLI pieces that need no server: usage errors, help, the token file."""

import io
import json
import stat

import pytest

from clients.cli.main import build_parser, main
from clients.cli.store import TokenFile
from clients.tokens import Tokens


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_help_documents_exit_codes():
    text = build_parser().format_help()
    for line in (
        "0  success",
        "1  usage error",
        "2  sign-in needed",
        "3  the authorization",
    ):
        assert line in text


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["books"],
        ["books", "fly"],
        ["review", "add", "1", "--rating", "9", "--text", "x"],
    ],
)
def test_usage_errors_exit_1(argv, capsys):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 1
    assert "usage:" in capsys.readouterr().err


def test_not_signed_in_exits_2(tmp_path):
    code, _, err = run("--token-file", str(tmp_path / "none.json"), "books", "list")
    assert code == 2
    assert "python -m clients.cli login" in err


def test_login_is_refused_in_client_credentials_mode(tmp_path):
    code, _, err = run("--client-credentials", "login")
    assert code == 1
    assert "client credentials need neither" in err


def test_token_file_is_private_and_bound_to_issuer_and_client(tmp_path):
    path = tmp_path / "cfg" / "tokens.json"
    store = TokenFile(path, issuer="https://a", client_id="cli")
    tokens = Tokens("at", 123.0, "books:read", "rt")

    store.save(tokens)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.load() == tokens
    assert TokenFile(path, issuer="https://b", client_id="cli").load() is None
    assert TokenFile(path, issuer="https://a", client_id="other").load() is None
    assert json.loads(path.read_text())["issuer"] == "https://a"
    store.save(None)
    assert not path.exists()
    assert store.load() is None
