"""The oauthlib server class DOT runs (`OAUTH2_SERVER_CLASS`)."""

from oauthlib.oauth2.rfc6749.grant_types.authorization_code import (
    code_challenge_method_s256,
)
from oauthlib.openid import Server as OpenIDServer

from oauth_server import device

OFFERED_RESPONSE_TYPES = ("code",)
OFFERED_GRANT_TYPES = (
    "authorization_code",
    "client_credentials",
    "refresh_token",
    device.DEVICE_GRANT_TYPE,
)


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
    """

    def __init__(self, request_validator: object, **kwargs: object) -> None:
        super().__init__(request_validator, **kwargs)
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
        self.device_code_grant = device.OpenIDDeviceCodeGrant(
            request_validator, **kwargs
        )
        self._grant_types[device.DEVICE_GRANT_TYPE] = self.device_code_grant
        s256_only = {"S256": code_challenge_method_s256}
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant._code_challenge_methods = s256_only
