"""`manage.py listapps`: the registered applications."""

import json

from django.core.management.base import BaseCommand, CommandParser

from oauth_server import services


class Command(BaseCommand):
    help = "List registered applications."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--active", action="store_true", help="only active ones")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        apps = services.application_list(include_inactive=not options["active"])
        rows = [
            {
                "client_id": app.client_id,
                "name": app.name,
                "client_type": app.client_type,
                "grant_type": app.authorization_grant_type,
                "scopes": app.allowed_scopes,
                "active": app.is_active,
            }
            for app in apps
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        for row in rows:
            state = "active" if row["active"] else "INACTIVE"
            self.stdout.write(
                f"{row['client_id']}  {state:8}  {row['client_type']:12}  "
                f"{row['grant_type']:<18.18}  {row['name']}  [{row['scopes']}]"
            )
