"""`manage.py registerapp`: register an application and print its credentials once."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauth_server import capabilities, services
from oauth_server.management.errors import format_validation_error


class Command(BaseCommand):
    help = "Register an OAuth application and print its client_id and secret (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="shown to users")
        parser.add_argument(
            "--client-type", required=True, choices=["confidential", "public"]
        )
        parser.add_argument(
            "--grant-type",
            required=True,
            choices=list(capabilities.APPLICATION_GRANT_TYPES),
        )
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            dest="redirect_uris",
            help="authorization-code only; repeat for several",
        )
        parser.add_argument(
            "--post-logout-redirect-uri",
            action="append",
            default=[],
            dest="post_logout_redirect_uris",
        )
        parser.add_argument("--scopes", required=True, help="space-separated scopes")
        parser.add_argument(
            "--client-id", help="choose the client_id (default: random)"
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--homepage-url", default="")
        parser.add_argument("--logo-url", default="")
        parser.add_argument("--policy-url", default="")
        parser.add_argument("--contact", action="append", default=[], dest="contacts")
        parser.add_argument(
            "--skip-authorization",
            action="store_true",
            help="first-party apps only: no consent screen",
        )
        parser.add_argument(
            "--json", action="store_true", help="end with one JSON line of credentials"
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            registration = services.application_register(
                name=options["name"],
                client_type=options["client_type"],
                grant_type=options["grant_type"],
                scope=options["scopes"],
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_redirect_uris"],
                client_id=options["client_id"],
                description=options["description"],
                homepage_url=options["homepage_url"],
                logo_url=options["logo_url"],
                policy_url=options["policy_url"],
                contacts=options["contacts"],
                skip_authorization=options["skip_authorization"],
            )
        except ValidationError as exc:
            raise CommandError(format_validation_error(exc)) from None
        app = registration.application
        self.stdout.write(
            f"Registered {app.name!r} ({app.get_authorization_grant_type_display()})"
        )
        self.stdout.write(f"client_id:     {app.client_id}")
        if registration.client_secret:
            self.stdout.write(f"client_secret: {registration.client_secret}")
            self.stdout.write("The secret is shown only now; it is stored hashed.")
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "client_id": app.client_id,
                        "client_secret": registration.client_secret,
                    }
                )
            )
