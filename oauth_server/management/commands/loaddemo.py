"""`manage.py loaddemo`: the demo user and applications for `make run` (idempotent).

Secrets are generated on the first run and kept in the git-ignored `var/demo.json`,
so the sample client and the README session can read them; nothing is in the repo.
"""

from django.core.management.base import BaseCommand

from oauth_server import services
from oauth_server.conf import server_settings


class Command(BaseCommand):
    help = "Create the demo user and demo applications (idempotent); print credentials."

    def handle(self, *args: object, **options: object) -> None:
        demo = services.demo_load(path=server_settings().demo_credentials_file)
        self.stdout.write(f"Demo user: demo / {demo['password']}")
        for client in demo["clients"].values():
            secret = client["client_secret"] or "(public client, no secret)"
            self.stdout.write(f"Demo app:  {client['client_id']}  {secret}")
