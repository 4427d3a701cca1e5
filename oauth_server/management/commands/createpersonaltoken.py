"""`manage.py createpersonaltoken USER --name NAME --scope SCOPES [--days N]`."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauth_server import personal_tokens


class Command(BaseCommand):
    help = "Create a personal access token for a user and print it (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scope",
            default=" ".join(personal_tokens.AVAILABLE_SCOPES),
            help="Space-separated scopes (default: %(default)s).",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=personal_tokens.DEFAULT_LIFETIME_DAYS,
            help=f"Lifetime in days, at most {personal_tokens.MAX_LIFETIME_DAYS}.",
        )

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["username"]})
        except User.DoesNotExist:
            raise CommandError(f"No user {options['username']!r}.") from None
        try:
            issued = personal_tokens.personal_token_create(
                user=user,
                name=options["name"],
                scope=options["scope"],
                expires_in_days=options["days"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        expires = issued.personal.access_token.expires.isoformat()
        self.stderr.write(f"Token {issued.personal.name!r}, expires {expires}:")
        self.stdout.write(issued.token)
