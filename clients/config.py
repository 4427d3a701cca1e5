"""The sample client's configuration: the only reader of `CLIENT_*` variables.

Everything else in `clients/` takes explicit arguments, so an integrator can copy a
module and feed it from their own configuration.
"""

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from clients.http import origin

REPO_DIR = Path(__file__).resolve().parent.parent

DEFAULT_ISSUER = "http://127.0.0.1:8000"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8001/callback"
DEFAULT_TOKEN_FILE = "~/.config/marginalia/tokens.json"
DEFAULT_TIMEOUT = 10.0


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class ClientConfig:
    """Where the authorization server and API are, and who this client is."""

    issuer: str = DEFAULT_ISSUER
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    api_url: str = ""
    timeout: float = DEFAULT_TIMEOUT

    @property
    def api_base(self) -> str:
        """The resource API origin: `CLIENT_API_URL`, else the issuer's origin."""
        return (self.api_url or origin(self.issuer)).rstrip("/")


@dataclass(frozen=True)
class WebConfig(ClientConfig):
    """The web client: a confidential client with a redirect URI and a session store."""

    redirect_uri: str = DEFAULT_REDIRECT_URI
    post_logout_redirect_uri: str = ""
    secret_key: str = field(default="", repr=False)
    var_dir: Path = REPO_DIR / "var" / "client"
    debug: bool = False
    currency: str = "EUR"  # ISO 4217 code of the catalogue's prices

    @property
    def origin(self) -> str:
        """The web client's own origin, from its redirect URI."""
        return origin(self.redirect_uri)

    @property
    def logout_redirect(self) -> str:
        """Where the server sends the browser after logout."""
        return self.post_logout_redirect_uri or f"{self.origin}/"


@dataclass(frozen=True)
class CliConfig(ClientConfig):
    """The command-line client: a public device-code client with a token file."""

    token_file: Path = field(
        default_factory=lambda: Path(DEFAULT_TOKEN_FILE).expanduser()
    )


def _common(default_client_id: str) -> dict[str, object]:
    return {
        "issuer": _env("CLIENT_ISSUER", DEFAULT_ISSUER).rstrip("/"),
        "client_id": _env("CLIENT_ID", default_client_id),
        "client_secret": _env("CLIENT_SECRET"),
        "api_url": _env("CLIENT_API_URL"),
        "timeout": float(_env("CLIENT_HTTP_TIMEOUT", str(DEFAULT_TIMEOUT))),
    }


def web_config() -> WebConfig:
    """The web client's configuration from `CLIENT_*` environment variables."""
    var_dir = Path(_env("CLIENT_VAR_DIR", str(REPO_DIR / "var" / "client")))
    return WebConfig(
        **_common("marginalia-web"),
        redirect_uri=_env("CLIENT_REDIRECT_URI", DEFAULT_REDIRECT_URI),
        post_logout_redirect_uri=_env("CLIENT_POST_LOGOUT_REDIRECT_URI"),
        secret_key=_env("CLIENT_SECRET_KEY"),
        var_dir=var_dir,
        debug=_env("CLIENT_DEBUG", "false").lower() in {"1", "true", "yes", "on"},
        currency=_env("CLIENT_CURRENCY", "EUR").upper(),
    )


def cli_config() -> CliConfig:
    """The CLI's configuration from `CLIENT_*` environment variables."""
    return CliConfig(
        **_common("marginalia-cli"),
        token_file=Path(_env("CLIENT_TOKEN_FILE", DEFAULT_TOKEN_FILE)).expanduser(),
    )


def dev_secret_key(var_dir: Path) -> str:
    """A signing key for the web client's cookies, generated once into `var_dir`."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()
