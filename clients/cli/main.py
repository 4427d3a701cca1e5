"""Commands of the Marginalia CLI; data goes to stdout, progress and errors to stderr."""

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar

from clients.api import BooksAPI, cursor_of
from clients.cli.store import TokenFile
from clients.config import CliConfig, cli_config
from clients.errors import (
    ApiError,
    InsufficientScope,
    InvalidToken,
    OAuthError,
    ServerUnreachable,
    SignInRequired,
)
from clients.oauth import OAuthClient
from clients.tokens import TokenKeeper

EXIT_OK, EXIT_ERROR, EXIT_AUTH, EXIT_UNREACHABLE = 0, 1, 2, 3
DEVICE_SCOPE = "openid profile books:read books:write"
AUTH_ERRORS = {
    "access_denied": "Access was denied on the other device.",
    "expired_token": "The code expired before it was approved; run login again.",
    "invalid_grant": "The server refused the grant.",
    "invalid_client": "The server does not know this client (check CLIENT_ID/CLIENT_SECRET).",
    "unauthorized_client": "This client may not use that grant.",
    "invalid_scope": "This client may not ask for that scope.",
}

EPILOG = """\
exit codes:
  0  success
  1  usage error, or the API refused the request (not found, invalid review)
  2  sign-in needed or failed: not signed in, denied, expired, revoked, missing scope
  3  the authorization server or the API is unreachable

environment:
  CLIENT_ISSUER      authorization server (default http://127.0.0.1:8000)
  CLIENT_ID          client id (default marginalia-cli)
  CLIENT_SECRET      client secret, for --client-credentials
  CLIENT_API_URL     resource API origin (default: the issuer's)
  CLIENT_TOKEN_FILE  token file (default ~/.config/marginalia/tokens.json, mode 0600)
"""

T = TypeVar("T")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 1: 2 means "sign-in needed" here."""

    def error(self, message: str) -> NoReturn:
        """Print usage and exit 1."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    """The argument parser; `--help` documents the exit codes."""
    parser = Parser(
        prog="python -m clients.cli",
        description="Browse the Bookshelf catalogue and write reviews.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--issuer", help="authorization server URL")
    parser.add_argument("--client-id", help="OAuth client id")
    parser.add_argument("--api-url", help="resource API origin")
    parser.add_argument("--token-file", type=Path, help="where tokens are kept")
    parser.add_argument(
        "--client-credentials",
        action="store_true",
        help="act as the client itself (machine to machine), with CLIENT_SECRET",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("login", help="sign in with a code on another device")
    commands.add_parser("logout", help="revoke the tokens and forget them")
    books = commands.add_parser("books", help="list, show, stats")
    actions = books.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one page of books")
    listing.add_argument(
        "--cursor", help="where a page starts (printed after the previous page)"
    )
    show = actions.add_parser("show", help="one book")
    show.add_argument("book_id", type=int)
    actions.add_parser("stats", help="catalogue statistics")
    review = commands.add_parser("review", help="write reviews")
    review_actions = review.add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = review_actions.add_parser("add", help="review a book (needs books:write)")
    add.add_argument("book_id", type=int)
    add.add_argument("--rating", type=int, choices=range(1, 6), required=True)
    add.add_argument("--text", required=True)
    return parser


class Cli:
    """One invocation: configuration, OAuth client, token storage, output."""

    def __init__(
        self,
        args: argparse.Namespace,
        config: CliConfig,
        *,
        out: TextIO,
        err: TextIO,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.args = args
        self.issuer = (args.issuer or config.issuer).rstrip("/")
        self.api_url = (args.api_url or config.api_base).rstrip("/")
        self.timeout = config.timeout
        self.out, self.err, self.sleep = out, err, sleep
        self.oauth = OAuthClient(
            issuer=self.issuer,
            client_id=args.client_id or config.client_id,
            # The CLI itself is a public client; the secret is for machine use only.
            client_secret=config.client_secret if args.client_credentials else "",
            timeout=config.timeout,
        )
        self.store = TokenFile(
            args.token_file or config.token_file,
            issuer=self.issuer,
            client_id=self.oauth.client_id,
        )

    def say(self, message: str) -> None:
        """Progress or an error, on stderr."""
        print(message, file=self.err)

    def show(self, message: str) -> None:
        """Data, on stdout."""
        print(message, file=self.out)

    def run(self) -> int:
        """Dispatch to `cmd_<command>_<action>`; return the exit code."""
        args = self.args
        if args.client_credentials and args.command in {"login", "logout"}:
            self.say(
                "error: login and logout are for users; client credentials need neither."
            )
            return EXIT_ERROR
        if args.client_credentials and not self.oauth.client_secret:
            self.say("error: --client-credentials needs CLIENT_ID and CLIENT_SECRET.")
            return EXIT_ERROR
        handler = getattr(self, f"cmd_{args.command}_{getattr(args, 'action', '')}")
        return handler()

    # --- sign-in ------------------------------------------------------------------

    def cmd_login_(self) -> int:
        """Device authorization grant: show the code, poll, store the tokens."""
        device = self.oauth.start_device_authorization(DEVICE_SCOPE)
        minutes = max(1, round((device.expires_at - time.time()) / 60))
        self.say(f"To sign in, open {device.verification_uri}")
        self.say(f"and enter the code: {device.user_code}")
        if device.verification_uri_complete:
            self.say(f"(or open {device.verification_uri_complete})")
        self.say(f"Waiting for approval; the code expires in {minutes} minutes...")
        tokens = self.oauth.poll_device_token(
            device, scope=DEVICE_SCOPE, sleep=self.sleep
        )
        self.store.save(tokens)
        self.say(
            f"Signed in. Tokens saved to {self.store.path} (readable by you only)."
        )
        return EXIT_OK

    def cmd_logout_(self) -> int:
        """Revoke both tokens (RFC 7009), then delete the token file."""
        tokens = self.store.load()
        if tokens is None:
            self.say("Not signed in.")
            return EXIT_OK
        # If the server is unreachable this raises and the tokens stay, for a retry.
        if tokens.refresh_token:
            self.oauth.revoke(tokens.refresh_token, hint="refresh_token")
        self.oauth.revoke(tokens.access_token, hint="access_token")
        self.store.save(None)
        self.say("Signed out; the tokens are revoked.")
        return EXIT_OK

    def call_api(self, fn: Callable[[BooksAPI], T], *, scope: str = "books:read") -> T:
        """`fn` with an API client holding a fresh token of the right kind."""

        def with_token(token: str) -> T:
            return fn(BooksAPI(self.api_url, token, timeout=self.timeout))

        if self.args.client_credentials:
            return with_token(self.oauth.client_credentials(scope).access_token)
        keeper = TokenKeeper(self.oauth, load=self.store.load, save=self.store.save)
        return keeper.call(with_token)

    # --- books and reviews --------------------------------------------------------

    def cmd_books_list(self) -> int:
        """One page of books as a table."""
        params = {"cursor": self.args.cursor} if self.args.cursor else {}
        data = self.call_api(lambda api: api.list_books(**params))
        rows = [
            (b["id"], b["title"], _author(b), b["price"], _rating(b))
            for b in data.get("results", [])
        ]
        self.show(_table(("ID", "TITLE", "AUTHOR", "PRICE", "RATING"), rows))
        if cursor := cursor_of(data.get("next")):
            self.say(f"More: --cursor {cursor}")
        return EXIT_OK

    def cmd_books_show(self) -> int:
        """One book, field by field."""
        book = self.call_api(lambda api: api.get_book(self.args.book_id))
        fields = {
            "id": book.get("id"),
            "title": book.get("title"),
            "author": _author(book),
            "publication_date": book.get("publication_date"),
            "isbn": book.get("isbn"),
            "price": book.get("price"),
            "rating": _rating(book),
        }
        for name, value in fields.items():
            self.show(f"{name.replace('_', ' ').capitalize() + ':':<18}{value}")
        if book.get("summary"):
            self.show(f"\n{book['summary']}")
        return EXIT_OK

    def cmd_books_stats(self) -> int:
        """Catalogue statistics and the per-year table."""
        stats = self.call_api(lambda api: api.stats())
        for name in (
            "book_count",
            "total_price",
            "average_price",
            "min_price",
            "max_price",
            "stddev_price",
            "review_count",
            "average_rating",
        ):
            value = stats.get(name)
            self.show(
                f"{name.replace('_', ' ').capitalize() + ':':<18}"
                f"{'-' if value is None else value}"
            )
        rows = [
            (y["year"], y["book_count"], y["average_price"])
            for y in stats.get("by_year", [])
        ]
        if rows:
            self.show("")
            self.show(_table(("YEAR", "BOOKS", "AVERAGE PRICE"), rows))
        return EXIT_OK

    def cmd_review_add(self) -> int:
        """Post a review; needs `books:write`."""
        args = self.args
        self.call_api(
            lambda api: api.add_review(
                args.book_id, rating=args.rating, text=args.text
            ),
            scope="books:write",
        )
        self.say(f"Review of book {args.book_id} posted.")
        return EXIT_OK


def _author(book: dict[str, Any]) -> str:
    """The author's name (v2 embeds `{"id", "name"}`)."""
    return (book.get("author") or {}).get("name", "")


def _rating(book: dict[str, Any]) -> str:
    """`4.5 (2)`: the average (a float, or null without reviews) and the count."""
    average = book.get("average_rating")
    if average is None:
        return "-"
    return f"{average:.1f} ({book.get('review_count', 0)})"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run one command; the return value is the process exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    args = build_parser().parse_args(argv)
    cli = Cli(args, cli_config(), out=out, err=err, sleep=sleep)
    login_hint = "Run `python -m clients.cli login`."
    try:
        return cli.run()
    except ServerUnreachable as error:
        cli.say(f"error: {error.description}")
        return EXIT_UNREACHABLE
    except SignInRequired as error:
        cli.say(f"error: {error.description} {login_hint}")
        return EXIT_AUTH
    except InsufficientScope as error:
        cli.say(f"error: this needs the scope {error.scope or '(unnamed)'}.")
        return EXIT_AUTH
    except InvalidToken:
        cli.say(f"error: the API refused the access token. {login_hint}")
        return EXIT_AUTH
    except ApiError as error:
        cli.say(f"error: {error.description}")
        return EXIT_ERROR
    except OAuthError as error:
        if error.error in AUTH_ERRORS:
            cli.say(f"error: {AUTH_ERRORS[error.error]} ({error})")
            return EXIT_AUTH
        cli.say(f"error: {error}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        cli.say("Interrupted.")
        return EXIT_ERROR
