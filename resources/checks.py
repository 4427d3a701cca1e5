"""System checks for resource-API settings that cannot work."""

from django.core.checks import CheckMessage, Error, register
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

THROTTLE_SCOPES = ("application", "user", "catalogue_writes", "review_writes")


@register()
def check_throttle_rates(
    app_configs: object = None, **kwargs: object
) -> list[CheckMessage]:
    """Every throttle scope the API uses has a rate DRF can parse ("100/minute")."""
    errors: list[CheckMessage] = []
    rates = api_settings.DEFAULT_THROTTLE_RATES or {}
    for scope in THROTTLE_SCOPES:
        rate = rates.get(scope)
        try:
            SimpleRateThrottle.parse_rate(None, rate)
            valid = rate is not None
        except (ValueError, KeyError, IndexError, AttributeError):
            valid = False
        if not valid:
            errors.append(
                Error(
                    f"Throttle rate for {scope!r} is {rate!r}.",
                    hint='Set REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (the API_RATE_* '
                    'environment variables) to a rate such as "100/minute".',
                    id="resources.E001",
                )
            )
    return errors
