"""`manage.py deactivateapp CLIENT_ID`: switch an application off, revoke its tokens."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauth_server import services
from oauth_server.models import Application


class Command(BaseCommand):
    help = "Deactivate an application and revoke all of its tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")

    def handle(self, *args: object, **options: object) -> None:
        try:
            app = services.application_deactivate(client_id=options["client_id"])
        except Application.DoesNotExist:
            raise CommandError(
                f"No application with client_id {options['client_id']!r}."
            ) from None
        self.stdout.write(
            f"Deactivated {app.name!r} ({app.client_id}); its tokens are revoked."
        )
