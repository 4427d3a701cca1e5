"""`manage.py listapps`: the registered applications."""

import json

from django.core.management.base import BaseCommand, CommandParser

from oauth_server import capabilities, selectors

COLUMNS = ("client_id", "name", "client_type", "grant", "state", "scopes")
# The registered grant by the name `registerapp --grant-type` takes.
GRANT_NAMES = {
    value: name for name, value in capabilities.APPLICATION_GRANT_TYPES.items()
}


class Command(BaseCommand):
    help = "List registered applications (aligned columns, or --json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--active", action="store_true", help="only active ones")
        parser.add_argument("--json", action="store_true", help="one JSON array")

    def handle(self, *args: object, **options: object) -> None:
        apps = selectors.application_list(include_inactive=not options["active"])
        rows = [
            {
                "client_id": app.client_id,
                "name": app.name,
                "client_type": app.client_type,
                "grant_type": app.authorization_grant_type,
                "grant": GRANT_NAMES.get(
                    app.authorization_grant_type, app.authorization_grant_type
                ),
                "scopes": app.allowed_scopes,
                "active": app.is_active,
                "state": "active" if app.is_active else "INACTIVE",
            }
            for app in apps
        ]
        if options["json"]:
            keys = ("client_id", "name", "client_type", "grant_type", "scopes")
            self.stdout.write(
                json.dumps(
                    [
                        {**{k: row[k] for k in keys}, "active": row["active"]}
                        for row in rows
                    ]
                )
            )
            return
        header = {column: column.upper().replace("_", " ") for column in COLUMNS}
        widths = {
            column: max(len(str(row[column])) for row in [header, *rows])
            for column in COLUMNS
        }
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(
                    str(row[column]).ljust(widths[column]) for column in COLUMNS
                ).rstrip()
            )
