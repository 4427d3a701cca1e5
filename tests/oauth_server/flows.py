"""Helpers that drive the OAuth flows through Django's test client."""

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client
from django.urls import reverse

from tests.conftest import basic_auth, pkce_pair


@dataclass
class CodeRequest:
    """One authorization request with its PKCE verifier, state and nonce."""

    client_id: str
    redirect_uri: str
    scope: str = "openid profile books:read"
    verifier: str = ""
    challenge: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    method: str = "S256"

    def __post_init__(self) -> None:
        if not self.verifier:
            self.verifier, self.challenge = pkce_pair()

    def params(self, **overrides: str | None) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": self.method,
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def url(self, **overrides: str | None) -> str:
        return f"{reverse('oauth2_provider:authorize')}?{urlencode(self.params(**overrides))}"


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(
    client: Client, request: CodeRequest, *, allow: bool = True
) -> dict[str, str]:
    """GET the consent page, POST the decision; return the redirect's parameters.

    When the user allowed these scopes before (remembered consent) there is no
    page: the GET comes straight back with a code, and that is the answer.
    """
    page = client.get(request.url())
    if allow and page.status_code == 302:
        assert page["Location"].startswith(request.redirect_uri), page["Location"]
        return query_of(page["Location"])
    assert page.status_code == 200, page.content[:500]
    form = {**request.params(), "allow": "Authorize"} if allow else request.params()
    response = client.post(reverse("oauth2_provider:authorize"), form)
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(request.redirect_uri)
    return query_of(response["Location"])


def form_post(client: Client, url: str, data: dict[str, str], *, auth=None, **headers):
    """POST `data` form-encoded, as OAuth clients do, with HTTP Basic auth if given."""
    if auth:
        headers["HTTP_AUTHORIZATION"] = basic_auth(*auth)
    return client.post(
        url,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def token_request(
    client: Client, data: dict[str, str], *, auth: tuple[str, str] | None = None
):
    """POST to the token endpoint, with HTTP Basic client authentication if given."""
    return form_post(client, reverse("oauth2_provider:token"), data, auth=auth)


def exchange_code(
    client: Client, request: CodeRequest, code: str, *, auth=None, **extra
):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": request.redirect_uri,
        "code_verifier": request.verifier,
        **extra,
    }
    if auth is None:
        data.setdefault("client_id", request.client_id)
    return token_request(
        client, {k: v for k, v in data.items() if v is not None}, auth=auth
    )


def json_of(response) -> dict:
    return json.loads(response.content)


def sign_in(
    client: Client, user, app, scope: str = "openid profile books:read"
) -> dict:
    """Log `user` in, run the code flow for `app`, return the token response."""
    client.force_login(user)
    request = CodeRequest(
        client_id=app.client_id,
        redirect_uri="https://client.example/callback",
        scope=scope,
    )
    code = authorize(client, request)["code"]
    response = exchange_code(
        client, request, code, auth=(app.client_id, app.cleartext_secret)
    )
    return json_of(response)


# --- Device authorization grant (RFC 8628) --------------------------------------------

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def start_device(client: Client, app, scope: str = "books:read") -> dict:
    """Ask for a device and user code, as the device does; return the response."""
    response = form_post(
        client,
        reverse("oauth2_provider:device-authorization"),
        {"client_id": app.client_id, "scope": scope},
    )
    assert response.status_code == 200, response.content
    return json_of(response)


def decide_device(client: Client, user, user_code: str, action: str = "accept"):
    """The person: signed in, enters the code, allows (or denies) the device."""
    client.force_login(user)
    entered = client.post(reverse("oauth2_provider:device"), {"user_code": user_code})
    assert entered.status_code == 302, entered.content[:500]
    done = client.post(entered["Location"], {"action": action})
    assert done.status_code == 302, done.content[:500]
    return done


def poll_device(client: Client, app, device_code: str, *, auth=None):
    """One poll of the token endpoint by `app` (public unless `auth` is given)."""
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code}
    if auth is None:
        data["client_id"] = app.client_id
    return token_request(client, data, auth=auth)
