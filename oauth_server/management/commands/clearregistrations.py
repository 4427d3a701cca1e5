"""`clearregistrations`: delete self-registered clients that were never used."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauth_server.models import RegistrationPolicy
from oauth_server.registration_cleanup import unused_registrations_clear


class Command(BaseCommand):
    help = (
        "Delete clients registered dynamically (RFC 7591) or by their metadata "
        "document that never obtained a token, once older than the registration "
        "policy's 'unused days' (or --days). Each deletion is in the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Age in days past which unused registrations go (default: policy).",
        )

    def handle(self, *args: object, days: int | None, **options) -> None:
        if days is not None and days < 0:
            raise CommandError("--days must not be negative.")
        if days is None:
            days = RegistrationPolicy.load().unused_days
        count = unused_registrations_clear(days=days)
        self.stdout.write(
            f"unused registrations older than {days} days: {count} deleted"
        )
