from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """The protected resource: the book catalogue API."""

    name = "resources"
    verbose_name = "Book catalogue"

    def ready(self) -> None:
        # Imported for their side effects: OpenAPI extensions and system checks.
        from resources import checks, schema  # noqa: F401
