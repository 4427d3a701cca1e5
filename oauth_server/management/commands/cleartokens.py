"""`cleartokens`: delete expired tokens, grants and device codes, in short batches."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from oauth2_provider.models import refresh_token_expire_timedelta
from oauth2_provider.settings import oauth2_settings

from oauth_server.cleanup import expired_tokens_clear


class Command(BaseCommand):
    help = (
        "Delete expired access, refresh and ID tokens, grants, device grants and "
        "records of redeemed authorization codes, in batches that each commit on "
        "their own. Safe to run while the server is serving; run it daily or hourly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_SIZE,
            help="Rows deleted per transaction (default: %(default)s).",
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL,
            help="Seconds to wait between batches (default: %(default)s).",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=2,
            help=(
                "Batches deleted side by side, each on a database connection of "
                "its own; PostgreSQL only, SQLite deletes one at a time "
                "(default: %(default)s)."
            ),
        )

    def handle(
        self, *args: object, batch_size: int, pause: float, jobs: int, **options
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        if jobs < 1:
            raise CommandError("--jobs must be 1 or more.")
        if pause < 0:
            raise CommandError("--pause must not be negative.")
        if refresh_token_expire_timedelta() is None:
            self.stderr.write(
                self.style.WARNING(
                    "REFRESH_TOKEN_EXPIRE_SECONDS is not set: refresh tokens never "
                    "expire, so expired access and ID tokens bound to them are kept."
                )
            )
        for label, count in expired_tokens_clear(
            batch_size=batch_size, pause=pause, jobs=jobs
        ):
            self.stdout.write(f"{label}: {count} deleted")
