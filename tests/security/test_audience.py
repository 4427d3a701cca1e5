"""A token minted for one resource is useless at another (RFC 8707, RFC 6750 §3.1)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from oauth_server import resource_servers
from oauth_server.conf import server_settings
from tests.factories import AccessTokenFactory

BOOKS = reverse("api:book-list", kwargs={"version": "v1"})
USERINFO = reverse("oauth2_provider:user-info")


def uri_of(key: str) -> str:
    return next(s.uri for s in server_settings().resource_servers if s.key == key)


@pytest.fixture(params=["no-cache", "bearer-cache"])
def bearer_cache(request, settings):
    """Each check with and without the shared bearer cache (token_cache.py)."""
    seconds = 300 if request.param == "bearer-cache" else 0
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "bearer_cache_seconds": seconds,
        "bearer_cache_epoch_seconds": 300,
    }


def token(user, web_app, *resources: str, scope="openid books:read"):
    return AccessTokenFactory(
        user=user, application=web_app, scope=scope, resource=list(resources)
    )


@pytest.mark.parametrize(
    "audience",
    [
        pytest.param(lambda: [uri_of(resource_servers.MCP)], id="mcp"),
        pytest.param(lambda: ["https://evil.example/"], id="unknown"),
        pytest.param(lambda: ["https://evil.example/api/"], id="other-origin-api"),
    ],
)
def test_rest_api_refuses_a_token_for_another_audience(
    bearer_cache, api_client_for, reader, web_app, audience
):
    """401 invalid_token, on the first request and on a cached second one."""
    api = api_client_for(token(reader, web_app, *audience()))
    for _ in range(2):
        response = api.get(BOOKS)
        assert response.status_code == 401
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        assert 'error="invalid_token"' in challenge
        assert response.json()["detail"]


@pytest.mark.parametrize(
    "audience",
    [
        pytest.param(lambda: [], id="none"),
        pytest.param(lambda: [uri_of(resource_servers.API)], id="api"),
        pytest.param(
            lambda: [uri_of(resource_servers.API).rstrip("/")], id="api-no-slash"
        ),
    ],
)
def test_rest_api_takes_its_own_tokens_and_unbound_ones(
    bearer_cache, api_client_for, reader, web_app, audience
):
    api = api_client_for(token(reader, web_app, *audience()))
    for _ in range(2):
        assert api.get(BOOKS).status_code == 200


def test_audience_check_costs_no_query(settings, api_client_for, reader, web_app):
    """Refusing another audience reads no more than refusing an expired token: the
    check runs on the token row already read (bearer cache off: an expired token
    is never cached, so with it on the two paths differ by the cache's own reads)."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "bearer_cache_seconds": 0}
    expired = token(reader, web_app)
    expired.expires = timezone.now() - timedelta(seconds=1)
    expired.save()
    elsewhere = token(reader, web_app, uri_of(resource_servers.MCP))
    counts = []
    for refused in (expired, elsewhere):
        with CaptureQueriesContext(connection) as queries:
            assert api_client_for(refused).get(BOOKS).status_code == 401
        counts.append(len(queries))
    assert counts[1] <= counts[0]


def test_userinfo_answers_a_token_of_any_known_audience(
    bearer_cache, api_client_for, reader, web_app
):
    """openid is allowed on every audience for userinfo, the server's own endpoint."""
    api = api_client_for(token(reader, web_app, uri_of(resource_servers.MCP)))
    response = api.get(USERINFO)
    assert response.status_code == 200
    assert response.json()["sub"] == str(reader.pk)
