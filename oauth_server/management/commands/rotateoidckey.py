"""`manage.py rotateoidckey`: new ID-token signing key; the old one stays in the JWKS."""

from django.conf import settings
from django.core.management.base import BaseCommand

from oauth_server import keys


class Command(BaseCommand):
    help = (
        "Retire the active OIDC signing key in OIDC_KEY_DIR and create a new one. "
        "Retired keys stay published until tokens they signed have expired. "
        "Restart the server processes afterwards."
    )

    def handle(self, *args: object, **options: object) -> None:
        keep = max(
            settings.ID_TOKEN_EXPIRE_SECONDS, settings.ACCESS_TOKEN_EXPIRE_SECONDS
        )
        retired = keys.rotate_key_dir(settings.OIDC_KEY_DIR, keep_retired_seconds=keep)
        self.stdout.write(
            f"New active key in {settings.OIDC_KEY_DIR}; retired {retired.name}."
        )
