"""`manage.py rotatesecret CLIENT_ID`: issue a new client secret, print it once."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauth_server import services
from oauth_server.management.errors import format_validation_error
from oauth_server.models import Application


class Command(BaseCommand):
    help = "Replace a confidential application's secret; the old one stops working."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        try:
            registration = services.application_rotate_secret(
                client_id=options["client_id"]
            )
        except Application.DoesNotExist:
            raise CommandError(
                f"No application with client_id {options['client_id']!r}."
            ) from None
        except ValidationError as exc:
            raise CommandError(format_validation_error(exc)) from None
        self.stdout.write(f"client_secret: {registration.client_secret}")
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "client_id": registration.application.client_id,
                        "client_secret": registration.client_secret,
                    }
                )
            )
