"""The MCP endpoint at HTTP level: metadata, 401 and 403 challenges, audience."""

import json

import httpx2
import pytest

from mcp_server.server import app_from_settings
from tests.mcp_server.fakes import (
    API_RESOURCE,
    ISSUER,
    MCP_URL,
    SETTINGS,
    FakeBookshelf,
    grant,
)

pytestmark = pytest.mark.anyio

METADATA_URL = "http://127.0.0.1:8002/.well-known/oauth-protected-resource/mcp"
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}


def rpc(method: str, params: dict | None = None, id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": params or {}}


def tools_call(name: str, arguments: dict) -> dict:
    return rpc("tools/call", {"name": name, "arguments": arguments})


@pytest.fixture
def fake() -> FakeBookshelf:
    return FakeBookshelf(
        tokens={
            "read": grant("books:read"),
            "write": grant("books:read books:write"),
            "write-only": grant("books:write"),
            "for-api": grant("books:read books:write", aud=API_RESOURCE),
            "revoked": {"active": False},
        }
    )


@pytest.fixture
async def mcp(fake):
    """An HTTP client for the app, wired to the fake authorization server and API."""
    async with fake.client() as outbound:
        app = app_from_settings(SETTINGS, http=outbound)
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app),
                base_url="http://127.0.0.1:8002",
            ) as client,
        ):
            yield client


def post(client, body, token: str | None = None):
    headers = dict(HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/mcp", content=json.dumps(body), headers=headers)


def challenge(response) -> dict[str, str]:
    scheme, _, params = response.headers["www-authenticate"].partition(" ")
    assert scheme == "Bearer"
    return {
        name.strip(): value.strip('"')
        for name, _, value in (part.partition("=") for part in params.split('", '))
    }


async def test_protected_resource_metadata_is_path_aware(mcp):
    """RFC 9728 §3.1: the document for /mcp names our issuer and both scopes."""
    response = await mcp.get("/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 200
    assert response.json() == {
        "resource": MCP_URL,
        "authorization_servers": [ISSUER],
        "scopes_supported": ["books:read", "books:write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Bookshelf catalogue (MCP)",
    }


async def test_request_without_token_is_401_naming_the_metadata(mcp, fake):
    """No token: 401 with resource_metadata and the scope to ask first, no error code."""
    response = await post(mcp, rpc("tools/list"))
    assert response.status_code == 401
    assert challenge(response) == {
        "scope": "books:read",
        "resource_metadata": METADATA_URL,
    }
    assert fake.calls == []


@pytest.mark.parametrize(
    "token",
    ["for-api", "revoked", "unknown"],
    ids=["rest-api-audience", "inactive", "unknown"],
)
async def test_refused_token_is_401_invalid_token(mcp, token):
    """A token for the REST API, or an inactive one, is refused with invalid_token."""
    response = await post(mcp, rpc("tools/list"), token)
    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"
    assert challenge(response)["resource_metadata"] == METADATA_URL
    assert response.json()["error"] == "invalid_token"


async def test_token_without_read_scope_is_403(mcp):
    response = await post(mcp, rpc("tools/list"), "write-only")
    assert response.status_code == 403
    assert challenge(response)["error"] == "insufficient_scope"
    assert challenge(response)["scope"] == "books:read"


async def test_add_review_with_read_only_token_is_a_step_up_403(mcp, fake):
    """MCP "Scope Challenge Handling": 403 insufficient_scope naming every scope needed."""
    call = tools_call("add_review", {"book_id": 1, "rating": 5, "text": "Yes."})
    response = await post(mcp, call, "read")
    assert response.status_code == 403
    assert challenge(response) == {
        "error": "insufficient_scope",
        "error_description": "This request needs the scopes: books:read books:write.",
        "scope": "books:read books:write",
        "resource_metadata": METADATA_URL,
    }
    assert "/o/token/" not in fake.paths()  # nothing was exchanged or written


async def test_read_tools_need_no_step_up(mcp):
    response = await post(mcp, tools_call("catalogue_statistics", {}), "read")
    assert response.status_code == 200
    assert response.json()["result"]["structuredContent"]["book_count"] == 25


async def test_add_review_with_write_token_passes(mcp, fake):
    call = tools_call("add_review", {"book_id": 1, "rating": 4, "text": "Fine."})
    response = await post(mcp, call, "write")
    assert response.status_code == 200
    assert response.json()["result"]["isError"] is False
    assert fake.reviews[-1]["text"] == "Fine."


async def test_unreadable_body_is_left_to_the_transport(mcp):
    """The guard does not choke on bad JSON: the transport answers its parse error."""
    response = await mcp.post(
        "/mcp",
        content=b"{not json",
        headers={**HEADERS, "Authorization": "Bearer read"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


async def test_unreachable_authorization_server_is_503_not_401(mcp, fake):
    fake.introspection_failure = httpx2.ConnectError("refused")
    response = await post(mcp, rpc("tools/list"), "read")
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "www-authenticate" not in response.headers


async def test_introspection_answer_is_reused_across_requests(mcp, fake):
    for _ in range(3):
        assert (await post(mcp, rpc("tools/list"), "read")).status_code == 200
    assert fake.paths().count("/o/introspect/") == 1
