"""The catalogue MCP server's settings: the only place its process reads the environment.

`mcp_server/` takes a `McpSettings` and reads nothing itself, so its tests build one
by hand. `OAUTH_ISSUER`, `API_RESOURCE_URL`, `MCP_SERVER_URL` and `MCP_CLIENT_ID`
mean what they mean to the authorization server (`config/settings.py`), so one
environment configures both. In development every value has a default that matches
`make run`, except the MCP server's own client secret (`MCP_CLIENT_SECRET`), which
`make run` takes from the demo data.
"""

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message names it and the fix."""


DEFAULT_SERVER_URL = "http://127.0.0.1:8002/mcp"
DEFAULT_ISSUER = "http://127.0.0.1:8000"
DEFAULT_CLIENT_ID = "bookshelf-mcp"
DEFAULT_TIMEOUT = 10.0
DEFAULT_INTROSPECTION_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class McpSettings:
    """Who the MCP server is, and where its authorization server and API are."""

    # Its resource identifier (RFC 8707, RFC 9728 `resource`): tokens must name it.
    server_url: str = DEFAULT_SERVER_URL
    issuer: str = DEFAULT_ISSUER
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = field(default="", repr=False)
    # Where the tools send their calls, and the canonical URI tokens for it name.
    api_url: str = ""
    api_resource: str = ""
    introspection_url: str = ""
    token_url: str = ""
    timeout: float = DEFAULT_TIMEOUT
    # Seconds an introspection answer is reused, and how many are kept.
    introspection_cache_seconds: float = DEFAULT_INTROSPECTION_CACHE_SECONDS
    introspection_cache_size: int = 1024

    def __post_init__(self) -> None:
        issuer = self.issuer.rstrip("/")
        defaults = {
            "issuer": issuer,
            "api_url": self.api_url or f"{issuer}/api/v2/",
            "api_resource": self.api_resource or f"{issuer}/api/",
            "introspection_url": self.introspection_url or f"{issuer}/o/introspect/",
            "token_url": self.token_url or f"{issuer}/o/token/",
        }
        for name, value in defaults.items():
            object.__setattr__(self, name, value)

    @property
    def resource_metadata_path(self) -> str:
        """`/.well-known/oauth-protected-resource` + the server URL's path (RFC 9728 §3.1)."""
        path = urlsplit(self.server_url).path.rstrip("/")
        return f"/.well-known/oauth-protected-resource{path}"

    @property
    def mcp_path(self) -> str:
        """The path the Streamable HTTP endpoint answers on (`/mcp`)."""
        return urlsplit(self.server_url).path or "/"

    @property
    def port(self) -> int:
        """The port of `server_url`, where uvicorn listens by default."""
        parts = urlsplit(self.server_url)
        return parts.port or (443 if parts.scheme == "https" else 80)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{name} must be an http(s) URL, not {value!r}.")
    return value


def load() -> McpSettings:
    """Settings from `MCP_*` variables; a missing secret fails with the fix."""
    secret = _env("MCP_CLIENT_SECRET")
    if not secret:
        raise ConfigurationError(
            "MCP_CLIENT_SECRET is not set: the MCP server introspects tokens and "
            "exchanges them as a confidential client. `make run` takes it from "
            "var/demo.json; otherwise register the client and set the variable."
        )
    seconds = {}
    for name, default in (
        ("MCP_TIMEOUT", DEFAULT_TIMEOUT),
        ("MCP_INTROSPECTION_CACHE_SECONDS", DEFAULT_INTROSPECTION_CACHE_SECONDS),
    ):
        try:
            seconds[name] = float(_env(name, str(default)))
        except ValueError as error:
            raise ConfigurationError(f"{name} must be a number of seconds.") from error
        if seconds[name] < 0:
            raise ConfigurationError(f"{name} must not be negative.")
    urls = {
        "server_url": ("MCP_SERVER_URL", DEFAULT_SERVER_URL),
        "issuer": ("OAUTH_ISSUER", DEFAULT_ISSUER),
        "api_url": ("MCP_API_URL", ""),
        "api_resource": ("API_RESOURCE_URL", ""),
    }
    values = {
        key: _http_url(name, value) if (value := _env(name, default)) else ""
        for key, (name, default) in urls.items()
    }
    return McpSettings(
        client_id=_env("MCP_CLIENT_ID", DEFAULT_CLIENT_ID),
        client_secret=secret,
        timeout=seconds["MCP_TIMEOUT"] or DEFAULT_TIMEOUT,
        introspection_cache_seconds=seconds["MCP_INTROSPECTION_CACHE_SECONDS"],
        **values,
    )
