"""The agent side of tests/e2e/test_mcp_agent.py: the person, the SDK's client, and
the servers an agent brings (its loopback callback) or talks to (the MCP server).
"""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx2
import uvicorn
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult
from playwright.async_api import Page, async_playwright

from config.mcp import McpSettings
from mcp_server.server import app_from_settings
from tests.conftest import CHROMIUM, CHROMIUM_ARGS


@contextmanager
def callback_server() -> Iterator[tuple[str, list[str]]]:
    """The agent's loopback redirect URI, and the query strings it received."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/callback":  # not the favicon
                received.append(urlsplit(self.path).query)
            body = b"You can go back to your agent."
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/callback", received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextmanager
def serving(settings: McpSettings) -> Iterator[None]:
    """`python -m mcp_server`'s app under uvicorn, in a thread with its own loop."""
    port = urlsplit(settings.server_url).port
    holder: dict[str, uvicorn.Server] = {}

    async def serve() -> None:
        async with httpx2.AsyncClient(timeout=settings.timeout) as http:
            app = app_from_settings(settings, http=http)
            # log_config=None: uvicorn would otherwise attach its own handlers
            # (to pytest's captured stderr) to the process's loggers, past our
            # redacting filter (tests/security/test_logs_keep_secrets.py).
            config = uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", log_config=None
            )
            holder["server"] = server = uvicorn.Server(config)
            await server.serve()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not (holder.get("server") and holder["server"].started):
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the MCP server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        holder["server"].should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def browser_page() -> AsyncIterator[Page]:
    """A page of Debian's Chromium, driven by Playwright's async API."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            yield await context.new_page()
        finally:
            await browser.close()


class AuthorizationRefused(Exception):
    """The authorization server sent the agent an error instead of a code."""


@dataclass
class Consent:
    """What one consent page said."""

    heading: str
    notice: str
    asked: list[str]
    already_granted: list[str]
    resource: str


@dataclass
class Person:
    """The user at the browser: the SDK's redirect and callback handlers."""

    page: Page
    callback_url: str
    callbacks: list[str]
    username: str
    password: str
    decision: str = "Allow"
    asked: list[dict[str, str]] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)

    async def redirect(self, url: str) -> None:
        """Open the authorization URL, sign in if asked, decide on the consent page."""
        self.asked.append(query(url))
        await self.page.goto(url)
        if await self.page.locator("input[name=password]").count():
            await self.page.fill("input[name=username]", self.username)
            await self.page.fill("input[name=password]", self.password)
            await self.page.get_by_role("button", name="Sign in").click()
        # The sign-in page's `next` names /o/authorize/ too: compare paths.
        await self.page.wait_for_url(
            lambda now: (
                now.startswith(self.callback_url)
                or urlsplit(now).path == "/o/authorize/"
            )
        )
        if self.page.url.startswith(self.callback_url):
            return  # an error sent straight back: there was nothing to consent to
        form = self.page.locator("#authorizationForm")
        await form.wait_for()
        self.consents.append(await self._read_consent())
        await self.page.get_by_role("button", name=self.decision).click()
        await self.page.wait_for_url(f"{self.callback_url}**")

    async def callback(self) -> AuthorizationCodeResult:
        """What reached the agent's loopback callback, as the SDK wants it."""
        params = {k: v[0] for k, v in parse_qs(self.callbacks[-1]).items()}
        if "code" not in params:
            raise AuthorizationRefused(params.get("error", "no code"))
        return AuthorizationCodeResult(
            code=params["code"], state=params.get("state"), iss=params.get("iss")
        )

    async def _read_consent(self) -> Consent:
        page = self.page
        notice = page.locator("#registration-notice")
        return Consent(
            heading=await page.locator("h1").inner_text(),
            notice=await notice.inner_text() if await notice.count() else "",
            asked=await page.locator("ul.scopes li").evaluate_all(
                "items => items.map(i => i.dataset.scope)"
            ),
            already_granted=await page.locator("#already-granted span").evaluate_all(
                "items => items.map(i => i.dataset.scope)"
            ),
            resource=await page.locator("#resource-server").inner_text(),
        )


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Agent:
    """The SDK's client: its provider, storage, and every HTTP answer it got."""

    provider: OAuthClientProvider
    storage: TokenStorage
    responses: list[tuple[str, str, int]] = field(default_factory=list)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ClientSession]:
        async def record(response: httpx2.Response) -> None:
            request = response.request
            self.responses.append(
                (request.method, str(request.url), response.status_code)
            )

        async with (
            httpx2.AsyncClient(
                auth=self.provider, timeout=30, event_hooks={"response": [record]}
            ) as http,
            streamable_http_client(
                self.provider.context.server_url, http_client=http
            ) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session

    def statuses_at(self, url: str) -> list[int]:
        return [status for _, at, status in self.responses if at == url]
