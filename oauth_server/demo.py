"""The demo applications `make run` registers (plain data; `services.demo_load`)."""

from oauth_server import scopes

WEB_ORIGIN = "http://127.0.0.1:8001"
API_DOCS_ORIGIN = "http://127.0.0.1:8000"

DEMO_APPS = [
    {
        "client_id": "marginalia-web",
        "name": "Marginalia",
        "client_type": "confidential",
        "grant_type": "authorization-code",
        "scope": " ".join(
            [
                scopes.OPENID,
                scopes.PROFILE,
                scopes.EMAIL,
                scopes.BOOKS_READ,
                scopes.BOOKS_WRITE,
            ]
        ),
        "redirect_uris": [f"{WEB_ORIGIN}/callback"],
        "post_logout_redirect_uris": [f"{WEB_ORIGIN}/"],
        "description": "The sample third-party web app: browse books and write reviews.",
        "homepage_url": f"{WEB_ORIGIN}/",
        "contacts": ["developers@example.com"],
    },
    {
        "client_id": "marginalia-cli",
        "name": "Marginalia CLI",
        "client_type": "public",
        "grant_type": "device-code",
        "scope": " ".join(
            [scopes.OPENID, scopes.PROFILE, scopes.BOOKS_READ, scopes.BOOKS_WRITE]
        ),
        "description": "The command-line client; signs in with a code on another device.",
    },
    {
        "client_id": "catalogue-sync",
        "name": "Catalogue sync",
        "client_type": "confidential",
        "grant_type": "client-credentials",
        "scope": scopes.BOOKS_READ,
        "description": "A machine-to-machine job that reads the catalogue.",
    },
    {
        "client_id": "resource-server",
        "name": "Resource server",
        "client_type": "confidential",
        "grant_type": "client-credentials",
        "scope": scopes.INTROSPECTION,
        "description": "A resource server that introspects tokens.",
    },
    # The catalogue MCP server: introspects the tokens agents bring it, and exchanges
    # them for tokens for the REST API (RFC 8693; resource_servers.py names it).
    {
        "client_id": "bookshelf-mcp",
        "name": "Catalogue MCP server",
        "client_type": "confidential",
        "grant_type": "client-credentials",
        "scope": scopes.INTROSPECTION,
        "description": "The catalogue's MCP server for AI agents.",
    },
    # Swagger UI's "Authorize" at /api/docs/: authorization code + PKCE, no secret.
    {
        "client_id": "api-docs",
        "name": "API documentation",
        "client_type": "public",
        "grant_type": "authorization-code",
        "scope": " ".join([scopes.BOOKS_READ, scopes.BOOKS_WRITE]),
        "redirect_uris": [f"{API_DOCS_ORIGIN}/api/docs/oauth2-redirect.html"],
        "description": "Try the catalogue API from its Swagger UI page.",
    },
]
