from django.apps import AppConfig


class OAuthServerConfig(AppConfig):
    name = "oauth_server"
    verbose_name = "OAuth server"

    def ready(self) -> None:
        from oauth_server import (
            audit,  # noqa: F401  connects its sign-in receivers
            auth_time,  # noqa: F401  connects its sign-in receiver
            cimd,  # noqa: F401  registers its system check
            token_cache,
        )

        token_cache.connect_receivers()
