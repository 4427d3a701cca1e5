"""Requests and registrations of the developer portal, shared by its tests."""

import re

from django.test import Client
from django.urls import reverse

from oauth_server import services
from oauth_server.models import Application
from tests.conftest import basic_auth

APPS = reverse("oauth2_provider:developer-apps")
REGISTER = reverse("oauth2_provider:developer-app-register")
LOGIN = reverse("login")
TOKEN = reverse("oauth2_provider:token")
SECRET = re.compile(r'id="client-secret"[^>]*value="([^"]+)"')
CHANGES = ["developer-app-edit", "developer-app-rotate", "developer-app-deactivate"]
APP_PAGES = ["developer-app", *CHANGES]
# Each page with the methods it answers.
REQUESTS = [("get", name) for name in APP_PAGES] + [("post", name) for name in CHANGES]


def url(name: str, app: Application) -> str:
    return reverse(f"oauth2_provider:{name}", args=[app.pk])


def form(**overrides) -> dict:
    """A valid POST of the register form (a confidential machine client)."""
    return {
        "name": "Nightly sync",
        "client_type": "confidential",
        "authorization_grant_type": "client-credentials",
        "redirect_uris": "",
        "post_logout_redirect_uris": "",
        "logo_url": "",
        "homepage_url": "https://sync.example/",
        "policy_url": "",
        "description": "Copies the catalogue every night.",
        "requested_scopes": ["books:read"],
        **overrides,
    }


def register(owner, **overrides) -> Application:
    """An application registered by `owner` in the portal, its secret kept."""
    data = form(**overrides)
    registration = services.application_register(
        name=data["name"],
        client_type=data["client_type"],
        grant_type=data["authorization_grant_type"],
        scope=data.get("scope", ""),
        requested_scope=" ".join(data["requested_scopes"]),
        redirect_uris=data["redirect_uris"].split(),
        homepage_url=data["homepage_url"],
        description=data["description"],
        owner=owner,
    )
    registration.application.cleartext_secret = registration.client_secret
    return registration.application


def client_credentials(client: Client, app: Application, secret: str, scope: str):
    return client.post(
        TOKEN,
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, secret),
    )
