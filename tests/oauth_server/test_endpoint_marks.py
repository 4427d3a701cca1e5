"""Client endpoints: CSRF-exempt and out of ATOMIC_REQUESTS, marked on the view
that `as_view()` returns (no wrapper built on every call)."""

import pytest
from django.urls import resolve, reverse


@pytest.mark.parametrize(
    "name",
    [
        "oauth2_provider:token",
        "oauth2_provider:introspect",
        "oauth2_provider:user-info",
    ],
)
def test_marked_once_on_the_view(name):
    view = resolve(reverse(name)).func

    assert view.csrf_exempt is True
    assert view._non_atomic_requests == {"default"}
