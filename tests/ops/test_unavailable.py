"""A database outage is a JSON 503, never Django's HTML 500 page."""

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import resolve

from tests.conftest import REQUEST_DEFAULTS


@pytest.fixture
def failing_jwks(monkeypatch):
    """Make the JWKS view raise the given exception."""
    view_class = resolve("/o/jwks/").func.view_class

    def fail_with(error: Exception) -> None:
        def get(self, request, *args, **kwargs):
            raise error

        monkeypatch.setattr(view_class, "get", get)

    return fail_with


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
)
def test_database_outage_is_a_json_503(db, failing_jwks, error):
    """A lost database connection answers 503 temporarily_unavailable, retry later."""
    failing_jwks(error)
    response = Client(raise_request_exception=False).get("/o/jwks/", **REQUEST_DEFAULTS)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": "The service is briefly unavailable; try again.",
    }
    assert response["Retry-After"] == "5"
    assert "no-store" in response["Cache-Control"]


def test_other_errors_keep_the_500_page(db, failing_jwks):
    """Any other uncaught error is still a 500."""
    failing_jwks(ValueError("a bug"))
    response = Client(raise_request_exception=False).get("/o/jwks/", **REQUEST_DEFAULTS)
    assert response.status_code == 500
    assert not response["Content-Type"].startswith("application/json")
