"""The MCP server against the real authorization server and REST API (`live_server`).

No fakes between them: the MCP server introspects at `/o/introspect/` with its own
client, exchanges the agent's token at `/o/token/` (RFC 8693), and calls the REST
API with the exchanged token, whose audience the API checks. The agent's tokens are
made with the factories (the browser sign-in is the SDK journey's, issue 13).
"""

import json

import httpx2
import pytest

from config.mcp import McpSettings
from mcp_server.server import app_from_settings
from oauth_server import resource_servers, services
from oauth_server.conf import server_settings
from oauth_server.models import TokenDelegation
from tests.e2e.clients.conftest import join_catalogue_readers
from tests.factories import (
    AccessTokenFactory,
    ApplicationFactory,
    BookFactory,
    UserFactory,
)

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}


def uri_of(key: str) -> str:
    return next(s.uri for s in server_settings().resource_servers if s.key == key)


@pytest.fixture
def world(live_server):
    """The MCP server's client, an agent's application, a reader, three books."""
    mcp_client = ApplicationFactory(
        client_id="bookshelf-mcp",
        name="Catalogue MCP server",
        authorization_grant_type="client-credentials",
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="introspection",
    )
    agent = ApplicationFactory(name="Agent")
    reader = UserFactory(username="reader")
    join_catalogue_readers(reader)
    BookFactory.create_batch(3)
    settings = McpSettings(
        server_url=uri_of(resource_servers.MCP),
        issuer=live_server.url,
        client_id=mcp_client.client_id,
        client_secret=mcp_client.cleartext_secret,
        api_resource=uri_of(resource_servers.API),
        introspection_cache_seconds=0,
    )
    return {"settings": settings, "agent": agent, "reader": reader}


def agent_token(world, key: str, scope: str = "books:read"):
    return AccessTokenFactory(
        user=world["reader"],
        application=world["agent"],
        scope=scope,
        resource=[uri_of(key)],
    )


@pytest.fixture
async def mcp(world):
    async with httpx2.AsyncClient(timeout=10) as outbound:
        app = app_from_settings(world["settings"], http=outbound)
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app),
                base_url="http://127.0.0.1:8002",
            ) as client,
        ):
            yield client


async def statistics(mcp, token) -> httpx2.Response:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "catalogue_statistics", "arguments": {}},
    }
    headers = {**HEADERS, "Authorization": f"Bearer {token.cleartext}"}
    return await mcp.post("/mcp", content=json.dumps(body), headers=headers)


async def test_a_tool_reaches_the_api_through_token_exchange(mcp, world):
    """Introspected, exchanged for a REST API token, answered by the real API."""
    response = await statistics(mcp, agent_token(world, resource_servers.MCP))
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["isError"] is False, result
    assert result["structuredContent"]["book_count"] == 3
    delegation = TokenDelegation.objects.select_related("access_token").get()
    assert delegation.actor.client_id == "bookshelf-mcp"
    assert delegation.access_token.resource == [uri_of(resource_servers.API)]
    assert delegation.access_token.application == world["agent"]


async def test_a_token_for_the_rest_api_is_refused_by_the_mcp_server(mcp, world):
    response = await statistics(mcp, agent_token(world, resource_servers.API))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert not TokenDelegation.objects.exists()


async def test_removing_the_agent_stops_it_at_the_next_call(mcp, world):
    """Remove access (connected applications): the agent's next call is a 401."""
    token = agent_token(world, resource_servers.MCP)
    assert (await statistics(mcp, token)).status_code == 200
    services.consent_withdraw(user=world["reader"], application=world["agent"])
    response = await statistics(mcp, token)
    assert response.status_code == 401
    assert not TokenDelegation.objects.exists()  # the exchanged token went too
