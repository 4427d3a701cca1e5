"""The one registry of resource servers: who may be a token's audience (RFC 8707).

Plain data, no Django import, like `scopes.py`: `config.settings` builds the registry
from the canonical URIs it reads from the environment and hands it to
`OAUTH_SERVER["resource_servers"]`; the authorization and token endpoints, the
audience check of the REST API and token exchange (RFC 8693) read it through
`server_settings()`.

A resource indicator names one of these servers when it equals its canonical URI
(or an alias) once both are normalised (`normalise`): scheme and host in lower case, the default
port dropped, a trailing slash ignored. Tokens record the canonical URI, so `aud`
in introspection always reads the same whatever spelling the client sent.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from oauth_server import scopes

API = "api"
MCP = "mcp"

# The REST API is served under this path of the authorization server's origin
# (config/urls.py); a bearer request there must carry a token for the API.
API_PATH = "/api/"

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ResourceServer:
    """A protected resource: its canonical URI, what it accepts, who runs it."""

    key: str
    name: str
    uri: str
    # The scopes a token for this resource may carry, besides the OpenID Connect
    # ones (they concern the ID token and userinfo, not the resource).
    scopes: frozenset[str]
    # Confidential clients that act as this resource server: they may exchange a
    # token minted for it (RFC 8693) for one whose audience is another resource.
    client_ids: frozenset[str] = frozenset()
    # Other URIs that name this server. The REST API's RFC 9728 document
    # (`/.well-known/oauth-protected-resource`) describes the whole origin, so a
    # client that takes its resource indicator from there sends the origin.
    aliases: frozenset[str] = frozenset()

    def allowed_scopes(self) -> frozenset[str]:
        """What a token whose audience is this server may carry."""
        return self.scopes | scopes.USER_ONLY_SCOPES


def normalise(uri: object) -> str | None:
    """`uri` in the form resource indicators are compared in, or None if it is not
    an acceptable indicator: an absolute http(s) URI with a host, without userinfo
    or fragment (RFC 8707 §2). A query is refused too: ours never have one."""
    if not isinstance(uri, str) or not uri or uri != uri.strip():
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:  # a malformed port or IPv6 literal
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if "@" in parts.netloc or "#" in uri or parts.query or "?" in uri:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


def registry(
    *, api_url: str, mcp_url: str, mcp_client_ids: tuple[str, ...] = ()
) -> tuple[ResourceServer, ...]:
    """The resource servers this authorization server issues tokens for."""
    books = frozenset({scopes.BOOKS_READ, scopes.BOOKS_WRITE})
    api_origin = urlsplit(api_url)._replace(path="", query="", fragment="").geturl()
    return (
        ResourceServer(
            key=API,
            name="Bookshelf catalogue API",
            uri=api_url,
            scopes=books,
            aliases=frozenset({api_origin}),
        ),
        ResourceServer(
            key=MCP,
            name="Catalogue MCP server",
            uri=mcp_url,
            scopes=books,
            client_ids=frozenset(mcp_client_ids),
        ),
    )


def find(servers: tuple[ResourceServer, ...], uri: object) -> ResourceServer | None:
    """The server `uri` names, or None (unknown, or not a valid indicator)."""
    wanted = normalise(uri)
    if wanted is None:
        return None
    return next(
        (
            server
            for server in servers
            if wanted in {normalise(uri) for uri in (server.uri, *server.aliases)}
        ),
        None,
    )


def of_client(
    servers: tuple[ResourceServer, ...], client_id: str
) -> ResourceServer | None:
    """The resource server the client `client_id` acts as, if any."""
    return next((s for s in servers if client_id in s.client_ids), None)


# The development defaults; config/settings.py builds the real one.
DEVELOPMENT = registry(
    api_url="http://127.0.0.1:8000/api/",
    mcp_url="http://127.0.0.1:8002/mcp",
    mcp_client_ids=("bookshelf-mcp",),
)
