"""How management commands show a service's `ValidationError`."""

from django.core.exceptions import ValidationError


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, prefixed by the field it concerns."""
    if hasattr(exc, "error_dict"):
        return "\n".join(
            f"{field}: {message}"
            for field, messages in exc.message_dict.items()
            for message in messages
        )
    return "\n".join(exc.messages)
