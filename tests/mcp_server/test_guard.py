"""`ScopeGuard` on raw ASGI messages: bodies in chunks, batches, other methods."""

import json

import pytest
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from mcp_server.guard import ScopeGuard, called_tools

pytestmark = pytest.mark.anyio


def user(scope: str) -> AuthenticatedUser:
    return AuthenticatedUser(
        AccessToken(token="t", client_id="agent", scopes=scope.split())
    )


async def run(guard_scope: dict, chunks: list[bytes]) -> tuple[list[dict], bytes]:
    """The messages the guard sent, and the body the app behind it received."""
    received = bytearray()

    async def app(scope, receive, send):
        while True:
            message = await receive()
            received.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive():
        return incoming.pop(0)

    sent = []

    async def send(message):
        sent.append(message)

    guard = ScopeGuard(
        app,
        base_scopes=["books:read"],
        tool_scopes={"add_review": ["books:write"]},
        resource_metadata_url="http://mcp.test/.well-known/oauth-protected-resource/mcp",
    )
    await guard(guard_scope, receive, send)
    return sent, bytes(received)


def http(method: str = "POST", scope: str = "books:read", headers=()) -> dict:
    return {
        "type": "http",
        "method": method,
        "headers": list(headers),
        "user": user(scope) if scope is not None else None,
    }


def call(name: str) -> dict:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}}


async def test_body_in_chunks_is_inspected_and_replayed_whole():
    body = json.dumps(call("search_books")).encode()
    sent, received = await run(http(), [body[:10], body[10:30], body[30:]])
    assert sent[0]["status"] == 200
    assert received == body


async def test_step_up_is_detected_in_a_chunked_body():
    body = json.dumps(call("add_review")).encode()
    sent, received = await run(http(), [body[:5], body[5:]])
    assert sent[0]["status"] == 403
    assert received == b""  # the transport never saw the call


async def test_batch_containing_add_review_needs_write():
    body = json.dumps([call("search_books"), call("add_review")]).encode()
    sent, _ = await run(http(), [body])
    assert sent[0]["status"] == 403
    sent, _ = await run(http(scope="books:read books:write"), [body])
    assert sent[0]["status"] == 200


async def test_get_and_delete_need_the_base_scope_only():
    for method in ("GET", "DELETE"):
        sent, _ = await run(http(method), [b""])
        assert sent[0]["status"] == 200
        sent, _ = await run(http(method, scope="books:write"), [b""])
        assert sent[0]["status"] == 403


async def test_no_user_is_401_whatever_the_method():
    sent, _ = await run(http("GET", scope=None), [b""])
    assert sent[0]["status"] == 401
    headers = dict(sent[0]["headers"])
    assert b"error=" not in headers[b"www-authenticate"]
    assert headers[b"cache-control"] == b"no-store"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"", []),
        (b"\xff\xfe", []),
        (b"[1, null]", []),
        (json.dumps({"method": "tools/call", "params": []}).encode(), []),
        (json.dumps({"method": "tools/list"}).encode(), []),
        (json.dumps(call("add_review")).encode(), ["add_review"]),
    ],
)
def test_called_tools_tolerates_any_body(body, names):
    assert called_tools(body) == names
