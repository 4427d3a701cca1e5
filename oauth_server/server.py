"""The oauthlib server class DOT runs (`OAUTH2_SERVER_CLASS`)."""

import json

from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import (
    code_challenge_method_s256,
)
from oauthlib.openid import Server as OpenIDServer

OFFERED_RESPONSE_TYPES = ("code",)
OFFERED_GRANT_TYPES = (
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
)


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
    - A malformed OIDC `claims` parameter is `invalid_request` (OIDC Core §5.5).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._response_types = {
            name: handler
            for name, handler in self._response_types.items()
            if name in OFFERED_RESPONSE_TYPES
        }
        self._grant_types = {
            name: handler
            for name, handler in self._grant_types.items()
            if name in OFFERED_GRANT_TYPES
        }
        s256_only = {"S256": code_challenge_method_s256}
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant._code_challenge_methods = s256_only
        # Pre-auth validators run once client and redirect URI are known good.
        self.openid_connect_auth.proxy_target.custom_validators.pre_auth.append(
            validate_claims_parameter
        )
