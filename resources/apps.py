from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """The protected resource: the book catalogue API."""

    name = "resources"
    verbose_name = "Book catalogue"

    def ready(self) -> None:
        from resources import schema  # noqa: F401  (registers OpenAPI extensions)
