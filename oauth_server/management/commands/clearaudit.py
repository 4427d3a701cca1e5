"""`clearaudit`: delete audit events older than the retention period, in batches."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oauth_server.audit import events_prune
from oauth_server.conf import server_settings


class Command(BaseCommand):
    help = (
        "Delete audit events older than AUDIT_RETENTION_DAYS (or --days), oldest "
        "first, in batches that each commit on their own. 0 days keeps every event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=server_settings().audit_retention_days,
            help="Keep events this many days (default: %(default)s; 0: keep all).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=10_000,
            help="Rows deleted per transaction (default: %(default)s).",
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=0,
            help="Seconds to wait between batches (default: %(default)s).",
        )

    def handle(
        self, *args: object, days: int, batch_size: int, pause: float, **options
    ) -> None:
        if days < 0:
            raise CommandError("--days must not be negative.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        if pause < 0:
            raise CommandError("--pause must not be negative.")
        if days == 0:
            self.stdout.write("audit events: retention is off, none deleted")
            return
        before = timezone.now() - timedelta(days=days)
        deleted = sum(events_prune(before=before, batch_size=batch_size, pause=pause))
        self.stdout.write(
            f"audit events: {deleted} deleted (older than {before:%Y-%m-%d %H:%M} UTC)"
        )
