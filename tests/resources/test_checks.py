"""System checks of the resource API's settings."""

import pytest

from resources.checks import check_throttle_rates


def test_configured_rates_pass():
    """The shipped settings have a valid rate for every scope."""
    assert check_throttle_rates() == []


@pytest.mark.parametrize("rate", ["lots", "10/fortnight-ish", "ten/minute", None])
def test_unparseable_rate_is_an_error(settings, rate):
    """A rate DRF cannot parse fails the check instead of a 500 per request."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": rate}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": rates,
    }

    errors = check_throttle_rates()

    assert [e.id for e in errors] == ["resources.E001"]
    assert "'user'" in errors[0].msg
