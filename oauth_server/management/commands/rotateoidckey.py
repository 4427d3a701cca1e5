"""`manage.py rotateoidckey`: new ID-token signing key; the old one stays in the JWKS."""

from django.core.management.base import BaseCommand
from oauth2_provider.settings import oauth2_settings

from oauth_server import keys
from oauth_server.conf import server_settings


class Command(BaseCommand):
    help = (
        "Retire the active OIDC signing key in OIDC_KEY_DIR and create a new one. "
        "Retired keys stay published until tokens they signed have expired. "
        "Restart the server processes afterwards."
    )

    def handle(self, *args: object, **options: object) -> None:
        keep = max(
            oauth2_settings.ID_TOKEN_EXPIRE_SECONDS,
            oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
        )
        key_dir = server_settings().oidc_key_dir
        retired = keys.rotate_key_dir(key_dir, keep_retired_seconds=keep)
        self.stdout.write(f"New active key in {key_dir}; retired {retired.name}.")
