"""Reads of the authorization server: the application list and the token lookup
introspection answers for."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model, set_token_value

from oauth_server import selectors
from tests.factories import ApplicationFactory


def refresh_token_for(access, value: str = "a-refresh-token-value", **fields):
    refresh = get_refresh_token_model()(
        user=access.user, application=access.application, access_token=access, **fields
    )
    set_token_value(refresh, value)
    refresh.save()
    return refresh


def test_application_list_is_in_name_order(db):
    """Applications come by name, inactive ones included unless asked otherwise."""
    ApplicationFactory(name="Zeta")
    ApplicationFactory(name="Alpha", is_active=False)
    ApplicationFactory(name="Mid")

    names = [app.name for app in selectors.application_list()]
    active = [app.name for app in selectors.application_list(include_inactive=False)]

    assert names == ["Alpha", "Mid", "Zeta"]
    assert active == ["Mid", "Zeta"]


def test_live_token_finds_an_access_token_in_one_query(
    settings, access_token, django_assert_num_queries
):
    """Without the bearer cache, a live access token is found, application and
    user joined, in one query."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 0}
    with django_assert_num_queries(1):
        token = selectors.live_token(value=access_token.cleartext)
        assert (token.application.name, token.user.username) == ("Web app", "alice")

    assert token == access_token


def test_live_token_asks_nothing_once_the_token_is_cached(
    settings, access_token, django_assert_num_queries
):
    """With the shared bearer cache (Redis), a warm lookup is no query."""
    settings.CACHE_SHARED = True
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "bearer_cache_seconds": 300,
        "bearer_cache_epoch_seconds": 300,
    }
    selectors.live_token(value=access_token.cleartext)

    with django_assert_num_queries(0):
        token = selectors.live_token(value=access_token.cleartext)
        assert (token.application.name, token.user.username) == ("Web app", "alice")

    assert token == access_token


def test_live_token_finds_a_refresh_token(access_token, django_assert_num_queries):
    """A refresh token's value finds the refresh token, its access token joined."""
    refresh = refresh_token_for(access_token)

    with django_assert_num_queries(2):
        token = selectors.live_token(value="a-refresh-token-value")
        assert token.access_token.scope == "books:read"

    assert token == refresh


@pytest.mark.parametrize(
    "kill",
    ["unknown", "expired", "refresh revoked", "application off", "user off"],
)
def test_live_token_is_none_for_dead_tokens(access_token, kill):
    """Unknown, expired, revoked tokens and those of switched-off applications or
    users are not found."""
    refresh_token_for(access_token)
    value = access_token.cleartext
    if kill == "unknown":
        value = "no-such-token"
    elif kill == "expired":
        access_token.expires = timezone.now() - timedelta(seconds=1)
        access_token.save()
    elif kill == "refresh revoked":
        value = "a-refresh-token-value"
        get_refresh_token_model().objects.update(revoked=timezone.now())
    elif kill == "application off":
        access_token.application.is_active = False
        access_token.application.save()
    else:
        access_token.user.is_active = False
        access_token.user.save()

    assert selectors.live_token(value=value) is None
    if kill in ("application off", "user off"):
        assert selectors.live_token(value="a-refresh-token-value") is None
