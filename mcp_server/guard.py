"""The HTTP-level scope policy in front of the Streamable HTTP endpoint.

The SDK's `RequireAuthMiddleware` asks the same scopes of every request, and its
challenges carry no `scope`. The MCP authorization spec (2025-11-25, "Scope
Selection Strategy" and "Scope Challenge Handling") wants more, and so do we:

- no valid token: 401 with `resource_metadata` and `scope` naming the scopes to ask
  first (`books:read`), so an agent asks for writing only when it first needs it;
  `error="invalid_token"` when a token was sent (RFC 6750 §3.1);
- a `tools/call` of a tool that needs more than the token carries (`add_review`
  needs `books:write`): 403 `insufficient_scope` naming every scope the call needs,
  so the client can step up and retry. The JSON-RPC body is read here, before the
  transport, because once the transport answers 200 the status cannot change.
"""

import json
from collections.abc import Mapping, Sequence

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Bodies past the transport's limit are not inspected: it refuses them (413), and
# each tool checks its scope again.
MAX_INSPECTED_BODY = DEFAULT_MAX_REQUEST_BODY_SIZE


def challenge(**params: str) -> str:
    """A `Bearer` challenge from parameters, in order (RFC 6750 §3)."""
    return "Bearer " + ", ".join(
        f'{name}="{value}"' for name, value in params.items() if value
    )


def called_tools(body: bytes) -> list[str]:
    """The tool names of the `tools/call` requests in a JSON-RPC body."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []  # the transport answers a parse error
    messages = message if isinstance(message, list) else [message]
    names = []
    for item in messages:
        if isinstance(item, dict) and item.get("method") == "tools/call":
            params = item.get("params")
            if isinstance(params, dict) and isinstance(params.get("name"), str):
                names.append(params["name"])
    return names


class ScopeGuard:
    """Requires a token with the base scopes, and each called tool's own scopes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        base_scopes: Sequence[str],
        tool_scopes: Mapping[str, Sequence[str]],
        resource_metadata_url: str,
    ) -> None:
        self.app = app
        self.base_scopes = list(base_scopes)
        self.tool_scopes = tool_scopes
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser):
            await self._refuse_token(scope, send)
            return
        granted = set(user.scopes)
        needed = list(self.base_scopes)
        if scope["method"] == "POST":
            body, receive = await self._buffer(receive)
            for name in called_tools(body) if body is not None else []:
                needed += [s for s in self.tool_scopes.get(name, ()) if s not in needed]
        if not set(needed) <= granted:
            await self._respond(
                send,
                403,
                "insufficient_scope",
                f"This request needs the scopes: {' '.join(needed)}.",
                scope=" ".join(needed),
            )
            return
        await self.app(scope, receive, send)

    async def _refuse_token(self, scope: Scope, send: Send) -> None:
        if any(name == b"authorization" for name, _ in scope["headers"]):
            error = "invalid_token"
            description = "The access token is unknown, expired, revoked, or not meant for this server."
        else:  # RFC 6750 §3.1: a request without credentials gets no error code
            error, description = "", ""
        await self._respond(
            send, 401, error, description, scope=" ".join(self.base_scopes)
        )

    async def _buffer(self, receive: Receive) -> tuple[bytes | None, Receive]:
        """The whole body (None past the limit), and a `receive` that replays it."""
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > MAX_INSPECTED_BODY or not message.get("more_body", False):
                break
        complete = size <= MAX_INSPECTED_BODY and chunks[-1]["type"] == "http.request"
        body = b"".join(m.get("body", b"") for m in chunks) if complete else None

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        return body, replay

    async def _respond(
        self, send: Send, status: int, error: str, description: str, *, scope: str
    ) -> None:
        header = challenge(
            error=error,
            error_description=description,
            scope=scope,
            resource_metadata=self.resource_metadata_url,
        )
        body = json.dumps(
            {"error": error, "error_description": description}
            if error
            else {"error_description": "A bearer access token is required."}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"www-authenticate", header.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
