"""`manage.py loaddemo`: the demo user and applications for `make run` (idempotent).

Secrets are generated on the first run and kept in the git-ignored `var/demo.json`,
so the sample client and the README session can read them; nothing is in the repo.
"""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from oauth_server import scopes, services
from oauth_server.models import Application

WEB_ORIGIN = "http://127.0.0.1:8001"
API_DOCS_ORIGIN = "http://127.0.0.1:8000"

DEMO_APPS = [
    {
        "client_id": "marginalia-web",
        "name": "Marginalia",
        "client_type": "confidential",
        "grant_type": "authorization-code",
        "scope": " ".join(
            [
                scopes.OPENID,
                scopes.PROFILE,
                scopes.EMAIL,
                scopes.BOOKS_READ,
                scopes.BOOKS_WRITE,
            ]
        ),
        "redirect_uris": [f"{WEB_ORIGIN}/callback"],
        "post_logout_redirect_uris": [f"{WEB_ORIGIN}/"],
        "description": "The sample third-party web app: browse books and write reviews.",
        "homepage_url": f"{WEB_ORIGIN}/",
        "contacts": ["developers@example.com"],
    },
    {
        "client_id": "marginalia-cli",
        "name": "Marginalia CLI",
        "client_type": "public",
        "grant_type": "device-code",
        "scope": " ".join(
            [scopes.OPENID, scopes.PROFILE, scopes.BOOKS_READ, scopes.BOOKS_WRITE]
        ),
        "description": "The command-line client; signs in with a code on another device.",
    },
    {
        "client_id": "catalogue-sync",
        "name": "Catalogue sync",
        "client_type": "confidential",
        "grant_type": "client-credentials",
        "scope": scopes.BOOKS_READ,
        "description": "A machine-to-machine job that reads the catalogue.",
    },
    {
        "client_id": "resource-server",
        "name": "Resource server",
        "client_type": "confidential",
        "grant_type": "client-credentials",
        "scope": scopes.INTROSPECTION,
        "description": "A resource server that introspects tokens.",
    },
    # Swagger UI's "Authorize" at /api/docs/: authorization code + PKCE, no secret.
    {
        "client_id": "api-docs",
        "name": "API documentation",
        "client_type": "public",
        "grant_type": "authorization-code",
        "scope": " ".join([scopes.BOOKS_READ, scopes.BOOKS_WRITE]),
        "redirect_uris": [f"{API_DOCS_ORIGIN}/api/docs/oauth2-redirect.html"],
        "description": "Try the catalogue API from its Swagger UI page.",
    },
]


class Command(BaseCommand):
    help = "Create the demo user and demo applications (idempotent); print credentials."

    def handle(self, *args: object, **options: object) -> None:
        path = Path(settings.VAR_DIR) / "demo.json"
        state = json.loads(path.read_text()) if path.exists() else {"clients": {}}

        User = get_user_model()
        user = User.objects.filter(username="demo").first()
        if user is None or "password" not in state:
            state["password"] = secrets.token_urlsafe(12)
            user = user or User(username="demo")
            user.first_name, user.last_name, user.email = (
                "Dana",
                "Demo",
                "demo@example.com",
            )
            user.set_password(state["password"])
            user.save()

        for spec in DEMO_APPS:
            client_id = spec["client_id"]
            known = Application.objects.filter(client_id=client_id).exists()
            if known and client_id in state["clients"]:
                continue
            if known:  # secret lost: issue a new one
                registration = (
                    services.application_rotate_secret(client_id=client_id)
                    if (spec["client_type"] == "confidential")
                    else None
                )
                secret = registration.client_secret if registration else None
            else:
                secret = services.application_register(**spec).client_secret
            state["clients"][client_id] = {
                "client_id": client_id,
                "client_secret": secret,
            }

        path.write_text(json.dumps(state, indent=2))
        path.chmod(0o600)
        self.stdout.write(f"Demo user: demo / {state['password']}")
        for client in state["clients"].values():
            secret = client["client_secret"] or "(public client, no secret)"
            self.stdout.write(f"Demo app:  {client['client_id']}  {secret}")
