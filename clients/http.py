"""HTTP plumbing shared by the OAuth client and the API client: timeouts, errors."""

from typing import Any
from urllib.parse import urlsplit

import requests

from clients.errors import InsufficientScope, InvalidToken, ServerUnreachable


def origin(url: str) -> str:
    """The scheme and host (with port) of `url`: `https://auth.example.com`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def send(
    http: requests.Session, method: str, url: str, *, timeout: float, **kwargs: Any
) -> requests.Response:
    """One HTTP request; no answer, or a 5xx, becomes `ServerUnreachable`."""
    try:
        response = http.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as error:
        raise ServerUnreachable(origin(url), "It did not answer in time.") from error
    except requests.exceptions.SSLError as error:
        raise ServerUnreachable(
            origin(url),
            "Its TLS certificate is not trusted: point REQUESTS_CA_BUNDLE at the CA "
            "that signed it.",
        ) from error
    except requests.RequestException as error:
        raise ServerUnreachable(origin(url), "Is it running?") from error
    if response.status_code >= 500:
        raise ServerUnreachable(
            origin(url), f"It answered with an error ({response.status_code})."
        )
    return response


def bearer_challenge(response: requests.Response) -> dict[str, str]:
    """The parameters of a `WWW-Authenticate: Bearer ...` header (RFC 6750 §3)."""
    header = response.headers.get("WWW-Authenticate", "")
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "bearer":
        return {}
    params = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            params[name.strip()] = value.strip().strip('"')
    return params


def raise_for_bearer_error(response: requests.Response) -> None:
    """Turn a resource server's 401/403 into `InvalidToken`/`InsufficientScope`."""
    if response.status_code not in (401, 403):
        return
    challenge = bearer_challenge(response)
    description = challenge.get("error_description", "")
    if response.status_code == 403 and challenge.get("error") == "insufficient_scope":
        raise InsufficientScope(description, scope=challenge.get("scope", ""))
    if response.status_code == 401:
        raise InvalidToken(challenge.get("error", "invalid_token"), description, 401)
