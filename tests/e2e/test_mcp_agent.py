"""An AI agent connects with nothing but the MCP server's URL (issue 13's proof).

The agent is the official MCP SDK's own client: `OAuthClientProvider` with the
Streamable HTTP transport and `ClientSession`, none of our code. Everything else is
real: the authorization server and REST API (`live_server`), the catalogue MCP
server (`mcp_server`, under uvicorn in a thread, on a free loopback port that the
resource registry names), and a person in Debian's Chromium who signs in and
decides on the consent page (Playwright's async API, so the SDK's async redirect
and callback handlers drive the browser on the agent's event loop; see `journey`).

From the 401 the SDK finds the protected-resource metadata (RFC 9728), then the
authorization server's (RFC 8414); it registers by client ID metadata document (a
file served over TLS with a CA made by the test, fetched by the server) or by
dynamic registration (RFC 7591); it runs the code flow with PKCE and
`resource` = the MCP URL (RFC 8707), and steps up to `books:write` when
`add_review` answers 403 `insufficient_scope`.

The SDK accepts http issuers and metadata URLs (pydantic's AnyHttpUrl); only a
client ID metadata document URL must be https, which the test's TLS server gives.
The agent's callback is a tiny http server on loopback, as a desktop agent runs
one (Playwright's routes do not see a navigation's redirects, and the authorization
server answers some errors with a redirect): http loopback redirect URIs need the
development profile (OAUTH_ALLOW_HTTP_LOOPBACK_REDIRECTS).
"""

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests
from django.contrib.auth.models import AbstractUser
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.shared.auth import OAuthClientMetadata
from oauth2_provider.models import AccessToken

from config.mcp import McpSettings
from oauth_server import resource_servers
from oauth_server.models import Application, RegistrationPolicy
from resources.models import Book, Review
from tests.e2e.clients.conftest import free_port, join_catalogue_readers
from tests.e2e.mcp_agent import (
    Agent,
    AuthorizationRefused,
    Person,
    browser_page,
    callback_server,
    serving,
)
from tests.factories import (
    AccessTokenFactory,
    ApplicationFactory,
    BookFactory,
    UserFactory,
)
from tests.https_server import DocumentServer, document_server
from tests.mcp_server.test_sdk_oauth import MemoryStorage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
MCP_CLIENT_ID = "bookshelf-mcp"
# A whole journey, browser included, takes a few seconds; a hang fails here.
JOURNEY_SECONDS = 50


@dataclass
class World:
    """The servers' URLs, the agent's callback and what it received, the data."""

    issuer: str
    mcp_url: str
    callback: str
    received: list[str]
    mcp_settings: McpSettings
    reader: AbstractUser
    book: Book
    documents: DocumentServer


@pytest.fixture
def world(live_server, settings, tmp_path) -> Iterator[World]:
    """The registry naming this run's MCP port, the MCP server's client, a reader,
    a book, and the https server for client ID metadata documents."""
    mcp_url = f"http://127.0.0.1:{free_port()}/mcp"
    with (
        document_server(tmp_path) as documents,
        callback_server() as (callback, received),
    ):
        settings.OAUTH_SERVER = {
            **settings.OAUTH_SERVER,
            "resource_servers": resource_servers.registry(
                api_url=f"{live_server.url}/api/",
                mcp_url=mcp_url,
                mcp_client_ids=(MCP_CLIENT_ID,),
            ),
            "cimd_test_hosts": ("localhost",),
            "cimd_test_ca_file": str(documents.ca_file),
        }
        mcp_client = ApplicationFactory(
            client_id=MCP_CLIENT_ID,
            name="Catalogue MCP server",
            authorization_grant_type="client-credentials",
            redirect_uris="",
            post_logout_redirect_uris="",
            allowed_scopes="introspection",
        )
        reader = UserFactory(username="carol", password=PASSWORD)
        join_catalogue_readers(reader)
        book = BookFactory(title="Kindred")
        BookFactory.create_batch(2)
        yield World(
            issuer=live_server.url,
            mcp_url=mcp_url,
            callback=callback,
            received=received,
            mcp_settings=McpSettings(
                server_url=mcp_url,
                issuer=live_server.url,
                client_id=mcp_client.client_id,
                client_secret=mcp_client.cleartext_secret,
                # Every call is introspected: a removal shows at the next one.
                introspection_cache_seconds=0,
            ),
            reader=reader,
            book=book,
            documents=documents,
        )


@pytest.fixture
def mcp_server(world) -> Iterator[str]:
    with serving(world.mcp_settings):
        yield world.mcp_url


def agent_metadata(world: World) -> dict[str, object]:
    """What the agent says of itself, registering or in its metadata document."""
    return {
        "client_name": "Reading agent",
        "redirect_uris": [world.callback],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def make_agent(
    world: World, person: Person, *, client_metadata_url: str | None = None
) -> Agent:
    """The SDK's agent knowing only the MCP URL (and, for CIMD, its own document)."""
    storage = MemoryStorage()
    provider = OAuthClientProvider(
        server_url=world.mcp_url,
        client_metadata=OAuthClientMetadata.model_validate(agent_metadata(world)),
        storage=storage,
        redirect_handler=person.redirect,
        callback_handler=person.callback,
        client_metadata_url=client_metadata_url,
    )
    return Agent(provider, storage)


def serve_document(world: World) -> str:
    """The agent's client ID metadata document, at its https URL."""
    url = world.documents.url("/agent/client.json")
    return world.documents.serve(
        "/agent/client.json", {**agent_metadata(world), "client_id": url}
    )


@dataclass
class Journey:
    """What one run of the agent left: the person's view, the agent's, results."""

    person: Person
    agent: Agent
    seen: dict = field(default_factory=dict)
    error: str = ""


def journey(
    world: World,
    steps: Callable[[ClientSession, Journey], Awaitable[None]],
    *,
    client_metadata_url: str | None = None,
    refused: bool = False,
) -> Journey:
    """The agent's session running `steps`, with a person at a browser.

    On an event loop of its own, in a thread of its own: the session-wide sync
    Playwright of the other browser tests leaves an event loop marked running in
    the main thread. `refused`: the steps must end with an authorization the
    server refused. The database is used from the test's thread only.
    """
    outcome: dict[str, object] = {}

    async def run() -> Journey:
        async with browser_page() as page:
            person = Person(page, world.callback, world.received, "carol", PASSWORD)
            agent = make_agent(world, person, client_metadata_url=client_metadata_url)
            done = Journey(person, agent)
            try:
                async with agent.session() as session:
                    await steps(session, done)
            except ExceptionGroup as group:  # the SDK's task group wraps the error
                (error,) = group.exceptions
                if not (refused and isinstance(error, AuthorizationRefused)):
                    raise
                done.error = str(error)
            return done

    def target() -> None:
        try:
            outcome["done"] = asyncio.run(asyncio.wait_for(run(), JOURNEY_SECONDS))
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(JOURNEY_SECONDS + 10)
    if "error" in outcome:
        raise outcome["error"]
    done = outcome["done"]
    assert bool(done.error) == refused, done.error
    return done


async def every_tool(session: ClientSession, done: Journey) -> None:
    """Every tool once; add_review last (it needs the step-up)."""
    book_id = done.seen["book_id"]
    done.seen["listed"] = await session.list_tools()
    done.seen["found"] = await session.call_tool("search_books", {"query": "Kindred"})
    done.seen["details"] = await session.call_tool("book_details", {"book_id": book_id})
    done.seen["statistics"] = await session.call_tool("catalogue_statistics", {})
    done.seen["review"] = await session.call_tool(
        "add_review",
        {"book_id": book_id, "rating": 5, "text": "Read it twice, via an agent."},
    )


def test_agent_known_by_its_metadata_document(world, mcp_server):
    """CIMD: discovery from the URL, sign-in and consent, four tools, step-up."""
    client_id = serve_document(world)

    async def steps(session: ClientSession, done: Journey) -> None:
        done.seen["book_id"] = world.book.pk
        await every_tool(session, done)

    done = journey(world, steps, client_metadata_url=client_id)

    person, agent, seen = done.person, done.agent, done.seen
    # Discovery started from the 401 of the MCP URL and its resource_metadata.
    assert agent.responses[0] == ("POST", mcp_server, 401)
    metadata_url = f"{world.issuer}/.well-known/oauth-authorization-server"
    assert any(url == metadata_url and s == 200 for _, url, s in agent.responses)
    # The server fetched the document itself and registered the client by it.
    assert world.documents.requests == ["/agent/client.json"]
    app = Application.objects.get(client_id=client_id)
    assert app.registration_source == Application.RegistrationSource.CIMD
    # First books:read only, then the union with books:write; both for the MCP URL.
    first, second = person.asked
    assert (first["scope"], second["scope"]) == ("books:read", "books:read books:write")
    assert {first["resource"], second["resource"]} == {mcp_server}
    assert first["client_id"] == second["client_id"] == client_id
    assert first["code_challenge_method"] == "S256"
    # The consent pages named the client by its host, and asked only what was new.
    welcome, step_up = person.consents
    assert welcome.heading == "localhost wants to access your account"
    assert "identified only by its web address" in welcome.notice
    assert (welcome.asked, welcome.already_granted) == (["books:read"], [])
    assert (step_up.asked, step_up.already_granted) == (["books:write"], ["books:read"])
    assert mcp_server in welcome.resource
    assert 403 in agent.statuses_at(mcp_server)  # the step-up challenge

    assert sorted(tool.name for tool in seen["listed"].tools) == [
        "add_review",
        "book_details",
        "catalogue_statistics",
        "search_books",
    ]
    assert seen["found"].structured_content["books"][0]["title"] == "Kindred"
    assert seen["details"].structured_content["book"]["id"] == world.book.pk
    assert seen["statistics"].structured_content["book_count"] == 3
    assert seen["review"].is_error is False, seen["review"].content
    assert seen["review"].structured_content["user"] == "carol"
    review_is_shown_as_written_by_the_reader(world)
    # The agent's tokens are for the MCP server only; those for the REST API are
    # the MCP server's exchanges on its behalf.
    audiences = {
        (tuple(token.resource), token.scope)
        for token in AccessToken.objects.filter(application=app)
    }
    assert ((mcp_server,), "books:read books:write") in audiences
    assert {aud for aud, _ in audiences} == {(mcp_server,), (f"{world.issuer}/api/",)}


def review_is_shown_as_written_by_the_reader(world: World) -> None:
    """The REST API, asked with a token of the reader's own, lists the review."""
    review = Review.objects.get(book=world.book)
    assert review.user == world.reader
    token = AccessTokenFactory(
        user=world.reader,
        application=ApplicationFactory(name="Reader's app"),
        scope="books:read",
        resource=[f"{world.issuer}/api/"],
    )
    answer = requests.get(
        f"{world.issuer}/api/v2/books/{world.book.pk}/reviews/",
        headers={"Authorization": f"Bearer {token.cleartext}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    (shown,) = answer.json()["results"]
    assert (shown["user"], shown["text"]) == ("carol", "Read it twice, via an agent.")


def test_agent_registered_dynamically(world, mcp_server):
    """DCR (RFC 7591): the SDK registers at the advertised endpoint, signs in,
    reads, and steps up to write a review; the consent page says the client
    registered itself.

    The SDK registers with the scope of the first challenge (`books:read`, MCP's
    "Scope Selection Strategy") and never registers again; the server registers it
    with the policy's scopes (RFC 7591 §3.2.1), so the step-up reaches the person,
    who is asked only for books:write.
    """

    async def steps(session: ClientSession, done: Journey) -> None:
        done.seen["book_id"] = world.book.pk
        await every_tool(session, done)

    done = journey(world, steps)

    person, agent, seen = done.person, done.agent, done.seen
    registration = f"{world.issuer}/o/register/"
    assert ("POST", registration, 201) in agent.responses
    app = Application.objects.get(client_id=agent.storage.client.client_id)
    assert app.registration_source == Application.RegistrationSource.DCR
    assert app.name == "Reading agent"
    assert app.client_type == Application.CLIENT_PUBLIC
    assert app.allowed_scope_list == RegistrationPolicy.load().scope_list
    welcome, step_up = person.consents
    assert welcome.heading == "Reading agent wants to access your account"
    assert "registered itself automatically" in welcome.notice
    assert (welcome.asked, welcome.already_granted) == (["books:read"], [])
    assert (step_up.asked, step_up.already_granted) == (["books:write"], ["books:read"])
    assert person.asked[0]["resource"] == mcp_server
    assert person.asked[1]["scope"] == "books:read books:write"
    assert len(seen["listed"].tools) == 4
    assert seen["found"].structured_content["books"][0]["title"] == "Kindred"
    assert seen["statistics"].structured_content["book_count"] == 3
    assert seen["details"].is_error is False
    assert seen["review"].is_error is False, seen["review"].content
    review_is_shown_as_written_by_the_reader(world)


def test_registered_client_cannot_exceed_the_policy(world, mcp_server):
    """A policy without books:write: the agent reads, its step-up fails cleanly."""
    RegistrationPolicy.objects.update_or_create(
        pk=RegistrationPolicy.SINGLETON,
        defaults={"scopes": "openid profile books:read"},
    )

    async def steps(session: ClientSession, done: Journey) -> None:
        done.seen["statistics"] = await session.call_tool("catalogue_statistics", {})
        await session.call_tool(
            "add_review", {"book_id": world.book.pk, "rating": 4, "text": "No."}
        )

    done = journey(
        world, steps, client_metadata_url=serve_document(world), refused=True
    )

    assert done.seen["statistics"].structured_content["book_count"] == 3
    assert ("POST", world.mcp_url, 403) in done.agent.responses  # the challenge
    assert done.person.asked[1]["scope"] == "books:read books:write"
    assert done.error == "invalid_scope"
    assert len(done.person.consents) == 1  # the refusal needed no consent page
    assert not Review.objects.exists()
    assert not AccessToken.objects.filter(scope__contains="books:write").exists()


def test_removing_access_stops_the_agent(world, mcp_server):
    """Remove access in the connected-apps page: the agent's next call is a 401,
    and it has to ask the person again (who now denies it)."""
    client_id = serve_document(world)

    async def steps(session: ClientSession, done: Journey) -> None:
        page, seen = done.person.page, done.seen
        seen["before"] = await session.call_tool("catalogue_statistics", {})
        await page.goto(f"{world.issuer}/o/authorized-apps/")
        section = page.locator(f'section.connected[data-client-id="{client_id}"]')
        await section.get_by_role("link", name="Remove access").click()
        await page.get_by_role("button", name="Remove access").click()
        await page.wait_for_url(f"{world.issuer}/o/authorized-apps/**")
        seen["left"] = await page.locator("section.connected").count()
        seen["calls"] = len(done.agent.statuses_at(mcp_server))
        done.person.decision = "Deny"
        await session.call_tool("catalogue_statistics", {})

    done = journey(world, steps, client_metadata_url=client_id, refused=True)

    seen = done.seen
    assert seen["before"].structured_content["book_count"] == 3
    assert seen["left"] == 0
    # The token was refused at once (no introspection cache), so the SDK asked again.
    assert done.agent.statuses_at(mcp_server)[seen["calls"]] == 401
    _, again = done.person.consents
    assert (again.asked, again.already_granted) == (["books:read"], [])
    assert done.error == "access_denied"
    assert not AccessToken.objects.filter(application__client_id=client_id).exists()
