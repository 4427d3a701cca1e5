"""The oauthlib server class DOT runs (`OAUTH2_SERVER_CLASS`)."""

import json
import re

from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import (
    code_challenge_method_s256,
)
from oauthlib.openid import Server as OpenIDServer

from oauth_server import audience, capabilities, device, token_exchange

# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters; §4.1 allows 43-128
# characters of the unreserved alphabet for any challenge.
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def code_challenge_method_is_offered(request: Request) -> dict[str, str]:
    """Name S256 when the `code_challenge` is missing, or its method is not S256.

    oauthlib reads a missing method as `plain` and refuses it with "Transform
    algorithm not supported.", which does not say what to send instead.
    """
    offered = ", ".join(capabilities.PKCE_METHODS)
    if request.code_challenge is None:
        if request.response_type and oauth2_settings.PKCE_REQUIRED is True:
            raise errors.MissingCodeChallengeError(
                description=(
                    f"code_challenge is required: PKCE with code_challenge_method="
                    f"{offered} (RFC 7636 §4.3)."
                ),
                request=request,
            )
        return {}
    method = request.code_challenge_method
    if method in capabilities.PKCE_METHODS:
        return {}
    if method is None:
        description = (
            f"code_challenge_method is missing; send code_challenge_method={offered} "
            "(plain is not offered, RFC 9700 §2.1.1)."
        )
    else:
        description = (
            f"code_challenge_method {method!r} is not supported; use {offered}."
        )
    raise errors.UnsupportedCodeChallengeMethodError(
        description=description, request=request
    )


def code_challenge_is_well_formed(request: Request) -> dict[str, str]:
    """Refuse a malformed `code_challenge` at the authorization request.

    oauthlib only checks that one is present; a challenge no verifier can match
    would otherwise be stored and fail, confusingly, at the token endpoint.
    """
    if request.code_challenge is not None and not CODE_CHALLENGE.fullmatch(
        request.code_challenge
    ):
        raise errors.InvalidRequestError(
            description="code_challenge must be 43-128 characters of A-Z, a-z, 0-9, "
            "'-', '.', '_' and '~' (RFC 7636 §4.2).",
            request=request,
        )
    return {}


CLAIMS_REQUEST_MEMBERS = ("userinfo", "id_token")


def validate_claims_parameter(request: Request) -> dict:
    """Refuse a malformed OIDC `claims` request parameter (OIDC Core §5.5).

    It must be a JSON object whose `userinfo` and `id_token` members, when
    present, are objects mapping claim names to null or an object (or `null`,
    which DOT's consent form sends for "none"). oauthlib parses
    it later and raises an error without the request, which DOT shows as an error
    page; a non-object passes it and is stored with the grant. Here the error is
    `invalid_request`, redirected to a valid client like other authorization
    errors (RFC 6749 §4.1.2.1).
    """
    claims = request.claims
    if not claims or isinstance(claims, dict):
        return {}
    description = "The claims parameter must be a JSON object (OIDC Core §5.5)."
    try:
        claims = json.loads(claims)
    except (ValueError, RecursionError):
        raise errors.InvalidRequestError(
            request=request, description=description
        ) from None
    if claims is None:
        # DOT's consent form posts the claims of the first request back as JSON:
        # "null" when there were none.
        request.claims = None
        return {}
    if not isinstance(claims, dict):
        raise errors.InvalidRequestError(request=request, description=description)
    for member in CLAIMS_REQUEST_MEMBERS:
        requested = claims.get(member, {})
        if not isinstance(requested, dict) or not all(
            value is None or isinstance(value, dict) for value in requested.values()
        ):
            raise errors.InvalidRequestError(
                request=request,
                description=(
                    f"claims.{member} must map claim names to null or an object "
                    "(OIDC Core §5.5)."
                ),
            )
    request.claims = claims
    return {}


class Server(OpenIDServer):
    """oauthlib's OpenID Connect server cut down to what we offer.

    - Only `response_type=code`: the implicit and hybrid flows are not offered at all,
      so asking for them is `unsupported_response_type` (RFC 9700 §2.1.2).
    - No password grant: `unsupported_grant_type` (RFC 9700 §2.4).
    - PKCE with S256 only. DOT's PKCE_METHOD gate refuses `plain` when it stores the
      code, after the user has consented; without `plain` in the grant's table,
      oauthlib refuses it (and a missing method, which means `plain`) while
      validating the request, before any consent page (RFC 9700 §2.1.1).
    - The device grant checks its device code, once, for its client, and issues an
      ID token with `openid` (oauth_server/device.py).
    - A malformed OIDC `claims` parameter is `invalid_request` (OIDC Core §5.5).
    - `resource` names one known resource server, and scopes stay within what it
      accepts, at the authorization and token endpoints (oauth_server/audience.py).
    - Token exchange (RFC 8693) for resource servers acting on a user's behalf
      (oauth_server/token_exchange.py).
    """

    def __init__(self, request_validator: object, **kwargs: object) -> None:
        super().__init__(request_validator, **kwargs)
        self._response_types = {
            name: handler
            for name, handler in self._response_types.items()
            if name in capabilities.RESPONSE_TYPES
        }
        self._grant_types = {
            name: handler
            for name, handler in self._grant_types.items()
            if name in capabilities.GRANT_TYPES
        }
        self.device_code_grant = device.OpenIDDeviceCodeGrant(
            request_validator, **kwargs
        )
        self._grant_types[device.DEVICE_GRANT_TYPE] = self.device_code_grant
        # capabilities.PKCE_METHODS: S256 only.
        s256_only = {"S256": code_challenge_method_s256}
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant._code_challenge_methods = s256_only
            grant.custom_validators.pre_auth.append(code_challenge_method_is_offered)
            grant.custom_validators.post_auth.append(code_challenge_is_well_formed)
        # Pre-auth validators run once client and redirect URI are known good.
        self.openid_connect_auth.proxy_target.custom_validators.pre_auth.append(
            validate_claims_parameter
        )
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant.custom_validators.post_auth.append(
                audience.validate_authorization_resource
            )
        for grant in (
            self.auth_grant,
            self.openid_connect_auth.proxy_target,
            self.refresh_grant,
            self.credentials_grant,
        ):
            grant.custom_validators.post_token.append(audience.validate_token_resource)
        self.token_exchange_grant = token_exchange.TokenExchangeGrant(
            request_validator, **kwargs
        )
        self._grant_types[capabilities.TOKEN_EXCHANGE] = self.token_exchange_grant
