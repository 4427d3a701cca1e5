"""A stand-in for `requests.Session` that answers from a script, for unit tests."""

import json
from collections import defaultdict, deque
from urllib.parse import urlsplit

import requests

from clients.oauth import OAuthClient

ISSUER = "https://auth.example"
DISCOVERY = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/o/authorize/",
    "token_endpoint": f"{ISSUER}/o/token/",
    "userinfo_endpoint": f"{ISSUER}/o/userinfo/",
    "jwks_uri": f"{ISSUER}/o/jwks/",
    "revocation_endpoint": f"{ISSUER}/o/revoke/",
    "device_authorization_endpoint": f"{ISSUER}/o/device-authorization/",
    "end_session_endpoint": f"{ISSUER}/o/logout/",
    "authorization_response_iss_parameter_supported": True,
}


def response(
    status: int = 200, body: object = None, **headers: str
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = json.dumps(body).encode() if body is not None else b""
    r.headers.update(headers)
    r.url = "https://example/test"
    return r


class FakeHTTP:
    """Answers `(METHOD, path)` from queued responses; records every request."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], deque] = defaultdict(deque)
        self.requests: list[tuple[str, str, dict]] = []
        self.queue("GET", "/.well-known/openid-configuration", response(200, DISCOVERY))

    def queue(self, method: str, path: str, *responses: requests.Response) -> None:
        self.answers[(method, path)].extend(responses)

    def request(
        self, method: str, url: str, *, timeout: float, **kwargs
    ) -> requests.Response:
        assert timeout > 0
        path = urlsplit(url).path
        self.requests.append((method, path, kwargs))
        answers = self.answers[(method, path)]
        if path == "/.well-known/openid-configuration" and len(answers) == 1:
            return answers[0]
        if isinstance(answers[0], Exception):
            raise answers.popleft()
        return answers.popleft()

    def posted(self, path: str) -> list[dict]:
        return [
            kw.get("data", {}) for m, p, kw in self.requests if (m, p) == ("POST", path)
        ]


def oauth_client(http: FakeHTTP, *, secret: str = "s3cret", clock=lambda: 1000.0):
    return OAuthClient(
        issuer=ISSUER, client_id="web", client_secret=secret, http=http, clock=clock
    )
