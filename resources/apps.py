from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """The protected resource: the book catalogue API."""

    name = "resources"
    verbose_name = "Book catalogue"

    def ready(self) -> None:
        # Imported for their side effects: OpenAPI extensions, system checks and
        # the list cache's signal receivers.
        from resources import checks, list_cache, schema  # noqa: F401
