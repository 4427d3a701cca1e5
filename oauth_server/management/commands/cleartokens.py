"""`cleartokens`: DOT's cleanup of expired tokens, plus our records of used codes."""

from django.utils import timezone
from oauth2_provider.management.commands.cleartokens import Command as DOTCommand

from oauth_server.models import RedeemedCode


class Command(DOTCommand):
    help = (
        "Delete expired tokens, grants and records of redeemed authorization codes. "
        "Run it daily (cron or a scheduler)."
    )

    def handle(self, *args, **options) -> None:
        super().handle(*args, **options)
        deleted, _ = RedeemedCode.objects.filter(expires__lte=timezone.now()).delete()
        self.stdout.write(f"Deleted {deleted} expired redeemed-code record(s).")
