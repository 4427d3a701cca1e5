"""OAuth 2.0 and OpenID Connect for the sample client, over HTTP with `requests`.

Discovery, PKCE, the authorization-code, refresh, client-credentials and device
grants, revocation, userinfo and ID-token verification against the server's JWKS.
Every endpoint comes from the discovery document; every request has a timeout.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import requests
from jwcrypto import jwk

from clients.errors import AuthorizationResponseError, IDTokenError, OAuthError
from clients.http import raise_for_bearer_error, send
from clients.idtoken import NO_KEY_VERIFIES, verify_id_token
from clients.tokens import Tokens

logger = logging.getLogger(__name__)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5: add 5 seconds to the interval on slow_down


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9-_]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document this client uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    revocation_endpoint: str = ""
    device_authorization_endpoint: str = ""
    end_session_endpoint: str = ""
    iss_parameter_supported: bool = False

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "ProviderMetadata":
        """Read a discovery document; a missing required endpoint is an error."""
        try:
            return cls(
                issuer=doc["issuer"],
                authorization_endpoint=doc["authorization_endpoint"],
                token_endpoint=doc["token_endpoint"],
                jwks_uri=doc["jwks_uri"],
                userinfo_endpoint=doc.get("userinfo_endpoint", ""),
                revocation_endpoint=doc.get("revocation_endpoint", ""),
                device_authorization_endpoint=doc.get(
                    "device_authorization_endpoint", ""
                ),
                end_session_endpoint=doc.get("end_session_endpoint", ""),
                iss_parameter_supported=bool(
                    doc.get("authorization_response_iss_parameter_supported")
                ),
            )
        except (KeyError, TypeError) as error:
            raise OAuthError(
                "invalid_discovery", f"The discovery document lacks {error}."
            ) from error


@dataclass
class AuthorizationRequest:
    """One authorization-code request: what we must remember until the callback."""

    url: str
    scope: str
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    verifier: str = field(repr=False)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> "AuthorizationRequest":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class DeviceAuthorization:
    """A device authorization response (RFC 8628 §3.2)."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: float
    interval: int


class OAuthClient:
    """One client of one authorization server; discovery and JWKS are cached."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str = "",
        timeout: float = 10.0,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.http = http or requests.Session()
        self.clock = clock
        self._metadata: ProviderMetadata | None = None
        self._keys: jwk.JWKSet | None = None
        self._lock = threading.Lock()

    # --- discovery and keys -------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        """The discovery document, fetched once (OIDC Discovery §4)."""
        with self._lock:
            if self._metadata is None:
                url = f"{self.issuer}/.well-known/openid-configuration"
                response = send(self.http, "GET", url, timeout=self.timeout)
                if response.status_code != 200:
                    raise OAuthError(
                        "invalid_discovery", f"{url} answered {response.status_code}."
                    )
                metadata = ProviderMetadata.from_document(response.json())
                # OIDC Discovery §4.3: the document must name the issuer we asked.
                if metadata.issuer.rstrip("/") != self.issuer:
                    raise OAuthError(
                        "invalid_discovery",
                        f"The server calls itself {metadata.issuer}, not {self.issuer}.",
                    )
                self._metadata = metadata
            return self._metadata

    def keys(self, *, refetch: bool = False) -> jwk.JWKSet:
        """The server's signing keys; refetched when a token names an unknown key."""
        if self._keys is None or refetch:
            response = send(
                self.http, "GET", self.metadata().jwks_uri, timeout=self.timeout
            )
            self._keys = jwk.JWKSet.from_json(response.text)
        return self._keys

    # --- authorization code -------------------------------------------------------

    def authorization_request(
        self, *, redirect_uri: str, scope: str, **extra: str
    ) -> AuthorizationRequest:
        """A fresh authorization URL with PKCE (S256), `state` and `nonce`."""
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        url = f"{self.metadata().authorization_endpoint}?{urlencode(params, quote_via=quote)}"
        return AuthorizationRequest(
            url=url, scope=scope, state=state, nonce=nonce, verifier=verifier
        )

    def check_authorization_response(
        self, params: dict[str, str], *, request: AuthorizationRequest
    ) -> str:
        """The code from a redirect back to us, after checking `iss` and `state`."""
        metadata = self.metadata()
        # RFC 9207 §2.4: compare iss before anything else (mix-up attacks).
        if "iss" in params:
            if params["iss"].rstrip("/") != metadata.issuer.rstrip("/"):
                raise AuthorizationResponseError(
                    "invalid_issuer", "The response came from another server (iss)."
                )
        elif metadata.iss_parameter_supported:
            raise AuthorizationResponseError(
                "invalid_issuer", "The response does not name its server (iss)."
            )
        if not hmac.compare_digest(params.get("state", ""), request.state):
            raise AuthorizationResponseError(
                "state_mismatch",
                "The response does not belong to this sign-in (state).",
            )
        if "error" in params:
            raise AuthorizationResponseError(
                params["error"], params.get("error_description", "")
            )
        if not params.get("code"):
            raise AuthorizationResponseError("invalid_request", "There is no code.")
        return params["code"]

    def exchange_code(
        self, code: str, *, request: AuthorizationRequest, redirect_uri: str
    ) -> Tokens:
        """Trade an authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": request.verifier,
            },
            requested_scope=request.scope,
        )

    def verify_id_token(self, token: str, *, nonce: str) -> dict[str, Any]:
        """Verify against the JWKS, refetching it once for an unknown key."""
        verify = {
            "issuer": self.metadata().issuer,
            "client_id": self.client_id,
            "nonce": nonce,
        }
        try:
            return verify_id_token(token, keys=self.keys(), now=self.clock(), **verify)
        except IDTokenError as error:
            if error.description != NO_KEY_VERIFIES:
                raise
        return verify_id_token(
            token, keys=self.keys(refetch=True), now=self.clock(), **verify
        )

    # --- other grants -------------------------------------------------------------

    def refresh(self, refresh_token: str, *, previous: Tokens | None = None) -> Tokens:
        """Refresh (RFC 6749 §6); the server rotates the refresh token every time."""
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            previous=previous,
        )

    def client_credentials(self, scope: str) -> Tokens:
        """A token for the client itself (RFC 6749 §4.4)."""
        return self._token_request(
            {"grant_type": "client_credentials", "scope": scope},
            requested_scope=scope,
        )

    def start_device_authorization(self, scope: str) -> DeviceAuthorization:
        """Ask for a device and user code (RFC 8628 §3.1)."""
        url = self.metadata().device_authorization_endpoint
        data = self._json(self._post(url, {"scope": scope}))
        return DeviceAuthorization(
            device_code=data["device_code"],
            user_code=data["user_code"],
            verification_uri=data["verification_uri"],
            verification_uri_complete=data.get("verification_uri_complete", ""),
            expires_at=self.clock() + float(data.get("expires_in", 600)),
            interval=int(data.get("interval", 5)),
        )

    def poll_device_token(
        self,
        device: DeviceAuthorization,
        *,
        scope: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> Tokens:
        """Poll until the user decides (RFC 8628 §3.4, §3.5)."""
        interval = device.interval
        while True:
            if self.clock() >= device.expires_at:
                raise OAuthError("expired_token", "The code expired before approval.")
            sleep(interval)
            try:
                return self._token_request(
                    {"grant_type": DEVICE_GRANT, "device_code": device.device_code},
                    requested_scope=scope,
                )
            except OAuthError as error:
                if error.error == "slow_down":
                    interval += SLOW_DOWN_STEP
                elif error.error != "authorization_pending":
                    raise

    def revoke(self, token: str, *, hint: str = "refresh_token") -> None:
        """Revoke a token (RFC 7009 §2); unknown tokens are fine, so is a 200."""
        url = self.metadata().revocation_endpoint
        response = self._post(url, {"token": token, "token_type_hint": hint})
        if response.status_code != 200:
            self._json(response)  # raises the server's error

    # --- resource calls -----------------------------------------------------------

    def userinfo(self, access_token: str) -> dict[str, Any]:
        """The signed-in user's claims (OIDC Core §5.3)."""
        response = send(
            self.http,
            "GET",
            self.metadata().userinfo_endpoint,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        raise_for_bearer_error(response)
        return self._json(response)

    def end_session_url(
        self, *, id_token_hint: str, post_logout_redirect_uri: str, state: str = ""
    ) -> str:
        """Where to send the browser to end the server session (RP-initiated logout)."""
        params = {
            "id_token_hint": id_token_hint,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "client_id": self.client_id,
        }
        if state:
            params["state"] = state
        return f"{self.metadata().end_session_endpoint}?{urlencode(params)}"

    # --- plumbing -----------------------------------------------------------------

    def _post(self, url: str, data: dict[str, str]) -> requests.Response:
        """POST a form with client authentication: HTTP Basic, or `client_id`."""
        auth = None
        if self.client_secret:
            # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic.
            auth = (quote(self.client_id, safe=""), quote(self.client_secret, safe=""))
        else:
            data = {**data, "client_id": self.client_id}
        return send(
            self.http,
            "POST",
            url,
            timeout=self.timeout,
            data=data,
            auth=auth,
            headers={"Accept": "application/json"},
        )

    def _token_request(
        self,
        data: dict[str, str],
        *,
        requested_scope: str = "",
        previous: Tokens | None = None,
    ) -> Tokens:
        response = self._post(self.metadata().token_endpoint, data)
        return Tokens.from_response(
            self._json(response),
            now=self.clock(),
            requested_scope=requested_scope,
            previous=previous,
        )

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        """The JSON body of a 2xx; an RFC 6749 §5.2 error body becomes `OAuthError`."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise OAuthError(
                "invalid_response",
                f"{response.url} answered {response.status_code} without JSON.",
                response.status_code,
            )
        if response.status_code >= 400 or "error" in body:
            raise OAuthError(
                str(body.get("error", "invalid_response")),
                str(body.get("error_description", "")),
                response.status_code,
            )
        return body
