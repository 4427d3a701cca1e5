"""The CLI as a subprocess against the live authorization server and resource API:
real exit codes."""

import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from resources.models import Review
from tests.e2e.clients.browser import Browser
from tests.e2e.clients.conftest import (
    CLI_CLIENT_ID,
    MACHINE_CLIENT_ID,
    MACHINE_SECRET,
    PASSWORD,
    REPO,
    TOTAL_PRICE,
    free_port,
)
from tests.factories import expire_access_tokens

pytestmark = pytest.mark.e2e

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


@dataclass
class Cli:
    env: dict[str, str]
    token_file: Path

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "clients.cli", *args],
            cwd=REPO,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        process = self.start(*args, **env)
        out, err = process.communicate(timeout=30)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture
def cli(world, issuer, api_url, tmp_path, dot_settings) -> Cli:
    # Poll every second, not five: the CLI follows whatever the server announces.
    dot_settings(DEVICE_FLOW_INTERVAL=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENT_")}
    token_file = tmp_path / "config" / "tokens.json"
    env.update(
        CLIENT_ISSUER=issuer,
        CLIENT_ID=CLI_CLIENT_ID,
        CLIENT_API_URL=api_url,
        CLIENT_TOKEN_FILE=str(token_file),
    )
    return Cli(env, token_file)


def user_code_of(process: subprocess.Popen) -> str:
    """Read the CLI's instructions until it shows the user code."""
    seen = []
    while line := process.stderr.readline():
        seen.append(line)
        if "enter the code:" in line:
            return line.rsplit(":", 1)[1].strip()
    raise AssertionError("".join(seen) + process.stdout.read())


def decide(visitor: Browser, issuer: str, user_code: str, action: str) -> None:
    """The user, on another device: sign in, enter the code, accept or deny."""
    page = visitor.get(f"{issuer}/o/device/")
    page = visitor.submit(
        page,
        visitor.form(page, has="username"),
        {"username": "alice", "password": PASSWORD},
    )
    page = visitor.submit(
        page, visitor.form(page, has="user_code"), {"user_code": user_code}
    )
    assert "on your device wants to access your account" in page.text
    done = visitor.submit(page, visitor.form(page, has="action"), {"action": action})
    assert done.status_code == 200


def login(cli: Cli, visitor: Browser, issuer: str, action: str = "accept"):
    process = cli.start("login")
    decide(visitor, issuer, user_code_of(process), action)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


def more_cursor(stderr: str) -> str:
    """The cursor in the CLI's "More: --cursor ..." hint."""
    hints = [line for line in stderr.splitlines() if line.startswith("More: --cursor ")]
    assert len(hints) == 1, stderr
    return hints[0].removeprefix("More: --cursor ")


def test_device_login_books_review_refresh_logout(
    cli, catalogue, visitor, issuer, world
):
    """Login by device code, use the API, survive expiry, log out with revocation."""
    code, err = login(cli, visitor, issuer)

    assert code == 0, err
    assert "Signed in." in err
    assert stat.S_IMODE(cli.token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.token_file.parent.stat().st_mode) == 0o700

    listing = cli.run("books", "list")
    assert listing.returncode == 0, listing.stderr
    kindred = [
        line.split() for line in listing.stdout.splitlines() if "Kindred" in line
    ]
    # v2 embeds the author's name; prices stay decimal strings; one rating of 5.
    assert kindred == [
        [
            str(catalogue.kindred.pk),
            *("Kindred", "Octavia", "E.", "Butler"),
            *("12.50", "5.0", "(1)"),
        ]
    ]
    assert "Solaris" not in listing.stdout
    second = cli.run("books", "list", "--cursor", more_cursor(listing.stderr))
    assert second.returncode == 0, second.stderr
    assert "Solaris" in second.stdout
    assert "Kindred" not in second.stdout
    assert "More:" not in second.stderr  # the last page
    show = cli.run("books", "show", str(catalogue.solaris.pk))
    assert "Author:           Stanisław Lem" in show.stdout
    assert "Price:            11.00" in show.stdout
    assert "Rating:           -" in show.stdout
    stats = cli.run("books", "stats").stdout
    assert f"Total price:      {TOTAL_PRICE}" in stats
    assert "Max price:        12.50" in stats
    assert "Average rating:   5.0" in stats

    book = str(catalogue.left_hand.pk)
    review = cli.run("review", "add", book, "--rating", "5", "--text", "Wonderful.")
    assert review.returncode == 0, review.stderr
    assert list(
        Review.objects.filter(user=world).values_list("book", "rating", "text")
    ) == [(catalogue.left_hand.pk, 5, "Wonderful.")]
    again = cli.run("review", "add", book, "--rating", "2", "--text", "Again.")
    assert again.returncode == 1
    assert "You have already reviewed this book." in again.stderr
    assert Review.objects.filter(user=world).get().rating == 5
    missing = cli.run("books", "show", "999999999")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: Not found.")

    stored = cli.token_file.read_text()
    expire_access_tokens()
    assert cli.run("books", "list").returncode == 0
    assert cli.token_file.read_text() != stored  # rotated tokens saved
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1

    out = cli.run("logout")
    assert out.returncode == 0, out.stderr
    assert not cli.token_file.exists()
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    after = cli.run("books", "list")
    assert after.returncode == 2
    assert "python -m clients.cli login" in after.stderr


def test_denied_device_login_exits_2(cli, visitor, issuer):
    code, err = login(cli, visitor, issuer, action="deny")

    assert code == 2
    assert "Access was denied" in err
    assert not cli.token_file.exists()


def test_client_credentials_mode(cli, catalogue):
    """Machine to machine: read with its own token; writing is not its to ask."""
    machine = {"CLIENT_ID": MACHINE_CLIENT_ID, "CLIENT_SECRET": MACHINE_SECRET}

    listing = cli.run("--client-credentials", "books", "list", **machine)
    review = cli.run(
        "--client-credentials",
        "review",
        "add",
        "1",
        "--rating",
        "3",
        "--text",
        "x",
        **machine,
    )
    no_secret = cli.run("--client-credentials", "books", "list")

    assert listing.returncode == 0, listing.stderr
    assert "Kindred" in listing.stdout
    assert review.returncode == 2
    assert "may not ask for that scope" in review.stderr
    assert not Review.objects.filter(book=catalogue.left_hand).exists()
    assert no_secret.returncode == 1
    assert not cli.token_file.exists()


def test_unreachable_server_exits_3(cli):
    result = cli.run("--issuer", f"http://127.0.0.1:{free_port()}", "login")

    assert result.returncode == 3
    assert "Cannot reach http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr
