"""The official SDK's client-side OAuth against the MCP server, from its URL only.

The authorization server is a fake (discovery, registration, authorize, token,
introspection, exchange); the MCP server is the real app with the real
introspection verifier. The SDK's `OAuthClientProvider` must find everything from
the 401, ask for `books:read` only, and step up to `books:write` on the first
`add_review` (MCP authorization, "Scope Challenge Handling"). The same journey
against the real authorization server, with a browser, comes after issue 13's merge.
"""

import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from mcp_server.server import app_from_settings
from tests.mcp_server.fakes import ISSUER, MCP_URL, SETTINGS, FakeBookshelf, grant

pytestmark = pytest.mark.anyio

REDIRECT_URI = "http://127.0.0.1:9/callback"


@dataclass
class FakeOAuthServer(FakeBookshelf):
    """FakeBookshelf plus what an agent needs: discovery, registration, code grant."""

    authorizations: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _codes: itertools.count = field(default_factory=itertools.count)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/.well-known/oauth-authorization-server":
            return httpx2.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/o/authorize/",
                    "token_endpoint": f"{ISSUER}/o/token/",
                    "registration_endpoint": f"{ISSUER}/o/register/",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                    "authorization_response_iss_parameter_supported": True,
                },
            )
        if path == "/o/register/":
            return httpx2.Response(
                201, json={**json.loads(request.content), "client_id": "agent-1"}
            )
        if path == "/o/token/" and self.form(request).get("grant_type") == (
            "authorization_code"
        ):
            return self.code_grant(self.form(request))
        return super().handle(request)

    def approve(self, url: str) -> AuthorizationCodeResult:
        """The person signs in and allows what the authorization URL asks."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        self.authorizations.append(params)
        code = f"code-{next(self._codes)}"
        self.codes[code] = params
        return AuthorizationCodeResult(code=code, state=params["state"], iss=ISSUER)

    def code_grant(self, form: dict[str, str]) -> httpx2.Response:
        asked = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "").encode()
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            asked is None
            or asked["client_id"] != form.get("client_id")
            or asked["redirect_uri"] != form.get("redirect_uri")
            or asked["code_challenge"] != challenge
        ):
            return httpx2.Response(400, json={"error": "invalid_grant"})
        token = f"agent-token-{len(self.tokens)}"
        # RFC 8707: the token's audience is the resource it was asked for.
        self.tokens[token] = grant(asked["scope"], aud=asked["resource"])
        return httpx2.Response(
            200,
            json={
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": asked["scope"],
            },
        )


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Router(httpx2.AsyncBaseTransport):
    """The MCP server's origin goes to the app, everything else to the fake."""

    def __init__(self, app, fake: FakeOAuthServer) -> None:
        self.mcp = httpx2.ASGITransport(app=app)
        self.others = fake.transport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.netloc.decode() == urlsplit(MCP_URL).netloc:
            return await self.mcp.handle_async_request(request)
        return await self.others.handle_async_request(request)


async def test_agent_discovers_signs_in_and_steps_up_with_the_sdk():
    fake = FakeOAuthServer()
    pending: list[AuthorizationCodeResult] = []

    async def redirect(url: str) -> None:
        pending.append(fake.approve(url))

    async def callback() -> AuthorizationCodeResult:
        return pending.pop()

    storage = MemoryStorage()
    provider = OAuthClientProvider(
        server_url=MCP_URL,
        client_metadata=OAuthClientMetadata(
            client_name="Test agent",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect,
        callback_handler=callback,
    )
    async with fake.client() as outbound:
        app = app_from_settings(SETTINGS, http=outbound)
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(auth=provider, transport=Router(app, fake)) as http,
            streamable_http_client(MCP_URL, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            found = await session.call_tool("search_books", {"query": "hobbit"})
            review = await session.call_tool(
                "add_review", {"book_id": 1, "rating": 5, "text": "Asked when needed."}
            )

    first, second = fake.authorizations
    # The 401 named books:read: the agent asked for nothing more at first ...
    assert first["scope"] == "books:read"
    assert first["resource"] == MCP_URL
    assert first["client_id"] == "agent-1"
    # ... and for books:write only at the add_review step-up.
    assert second["scope"] == "books:read books:write"
    assert second["resource"] == MCP_URL
    assert found.structured_content["books"][0]["title"] == "The Hobbit"
    assert review.is_error is False
    assert fake.reviews[-1]["text"] == "Asked when needed."
    assert storage.tokens.scope == "books:read books:write"
