"""Talking to a running cluster: through the proxy, or to one app server directly."""

import json
import textwrap
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from deploy.cluster import Cluster
from tests.conftest import pkce_pair
from tests.e2e.conftest import form_fields
from tests.factories import isbn13

TIMEOUT = 20
# Never followed: the code is read from the Location header. https, as production
# settings accept no http redirect URI.
CALLBACK = "https://client.test/callback"
PASSWORD = "correct horse battery staple"
USER_SCOPE = "openid profile books:read books:write"


@dataclass(frozen=True)
class Node:
    """One way into the cluster: the proxy over https, or an app server over http
    with the headers the proxy adds (as nginx would forward the request)."""

    base: str
    verify: str | bool = True
    headers: dict[str, str] = field(default_factory=dict)

    def session(self) -> requests.Session:
        session = requests.Session()
        # Not REQUESTS_CA_BUNDLE from the environment: it would override `verify`.
        session.trust_env = False
        session.verify = self.verify
        session.headers.update(self.headers)
        return session

    def url(self, path: str) -> str:
        return self.base + path


def proxy_node(cluster: Cluster) -> Node:
    return Node(cluster.config.issuer, verify=str(cluster.config.ca_certificate))


def app_node(cluster: Cluster, port: int) -> Node:
    return Node(
        cluster.config.app_url(port),
        headers={
            "X-Forwarded-Proto": "https",
            "Host": f"localhost:{cluster.config.proxy_port}",
        },
    )


# Runs inside `manage.py shell` with the cluster's settings; prints one JSON line.
SEED = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from oauth_server import services
from resources.groups import EDITORS
from resources.models import Author

spec = json.loads(SPEC)
editors = Group.objects.get(name=EDITORS)
for name in spec["users"]:
    user = get_user_model().objects.create_user(name, password=spec["password"])
    user.groups.add(editors)
apps = {}
for key, kwargs in spec["apps"].items():
    registration = services.application_register(name=key, **kwargs)
    apps[key] = {
        "client_id": registration.application.client_id,
        "client_secret": registration.client_secret,
    }
author = Author.objects.create(name="Cluster Author")
print(json.dumps({"apps": apps, "author": author.pk}))
"""


def seed(cluster: Cluster, *, users: list[str], load_clients: int) -> dict:
    """Users (editors) and applications in the cluster's database, via manage.py."""
    confidential = {"client_type": "confidential"}
    apps = {
        "web": {
            **confidential,
            "grant_type": "authorization-code",
            "scope": USER_SCOPE,
            "redirect_uris": [CALLBACK],
        },
        "rs": {
            **confidential,
            "grant_type": "client-credentials",
            "scope": "introspection",
        },
    }
    for n in range(load_clients):
        apps[f"cc{n}"] = {
            **confidential,
            "grant_type": "client-credentials",
            "scope": "books:read",
        }
    spec = json.dumps({"users": users, "password": PASSWORD, "apps": apps})
    code = f"SPEC = {spec!r}\n" + textwrap.dedent(SEED)
    output = cluster.manage("shell", "-c", code, capture=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def auth(app: dict) -> tuple[str, str]:
    return (app["client_id"], app["client_secret"])


def authorization_code(
    node: Node,
    app: dict,
    username: str,
    *,
    scope: str = USER_SCOPE,
    http: requests.Session | None = None,
) -> tuple[str, str]:
    """Sign in and consent in a browser session (a fresh one unless `http` is
    given); (code, PKCE verifier)."""
    browser = http or node.session()
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "st",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    login = browser.get(node.url(f"/o/authorize/?{urlencode(query)}"), timeout=TIMEOUT)
    assert "/accounts/login/" in login.url, login.status_code
    fields = {**form_fields(login.text), "username": username, "password": PASSWORD}
    signed_in = browser.post(
        login.url,
        data=fields,
        headers={"Referer": login.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert signed_in.status_code == 302, signed_in.status_code
    # Back to the authorization request: straight to the client with a code when
    # the user allowed this application these scopes before (remembered consent),
    # otherwise the consent page. The client's callback is never followed.
    consent = browser.get(
        urljoin(login.url, signed_in.headers["Location"]),
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    if consent.status_code == 302:
        assert consent.headers["Location"].startswith(CALLBACK), consent.headers
        return parse_qs(urlsplit(consent.headers["Location"]).query)["code"][
            0
        ], verifier
    assert "wants to access your account" in consent.text, consent.status_code
    redirect = browser.post(
        consent.url,
        data={**form_fields(consent.text), "allow": "Authorize"},
        headers={"Referer": consent.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert redirect.status_code == 302, redirect.status_code
    params = parse_qs(urlsplit(redirect.headers["Location"]).query)
    return params["code"][0], verifier


def token(node: Node, app: dict, http: requests.Session | None = None, **data: str):
    """POST to the token endpoint as `app`; the response."""
    http = http or node.session()
    return http.post(node.url("/o/token/"), data=data, auth=auth(app), timeout=TIMEOUT)


def exchange(node: Node, app: dict, code: str, verifier: str) -> requests.Response:
    return token(
        node,
        app,
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )


def user_tokens(node: Node, app: dict, username: str) -> dict:
    code, verifier = authorization_code(node, app, username)
    response = exchange(node, app, code, verifier)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def bearer(
    node: Node,
    access_token: str,
    method: str,
    path: str,
    http: requests.Session | None = None,
    **kwargs,
) -> requests.Response:
    http = http or node.session()
    return http.request(
        method,
        node.url(path),
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TIMEOUT,
        **kwargs,
    )


class BookNumbers:
    """Unique ISBNs and titles across threads."""

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._lock = threading.Lock()

    def book(self, author: int) -> dict:
        with self._lock:
            n, self._next = self._next, self._next + 1
        return {
            "title": f"Cluster book {n}",
            "author": author,
            "publication_date": "2001-02-03",
            "price": "12.50",
            "isbn": isbn13(500_000_000 + n),
        }
