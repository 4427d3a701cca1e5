"""The device authorization grant (RFC 8628), hardened.

- Device codes are stored as SHA-256 hex digests, like tokens; only the device
  ever holds the raw code.
- A device code belongs to the client it was issued to, and yields tokens once: the
  token request claims the approved grant with a conditional UPDATE inside its own
  transaction, so of parallel polls exactly one wins. Any later poll is a replay:
  the tokens the code was exchanged for are revoked (RFC 9700 §4.14). They are one
  refresh-token family whose id is derived from the grant, so they can be found.
- The token response carries an ID token when `openid` was granted (OIDC Core
  §3.1.3.3), built by oauthlib's OpenID path and signed like the code flow's.
- Wrong user codes are counted per user and per client address (RFC 8628 §5.1).
"""

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import (
    AbstractDeviceGrant,
    get_device_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc8628 import errors as rfc8628_errors
from oauthlib.oauth2.rfc8628.grant_types import DeviceCodeGrant as BaseDeviceCodeGrant
from oauthlib.openid.connect.core.grant_types.base import (
    GrantTypeBase as OpenIDGrantTypeBase,
)

from oauth_server import audience
from oauth_server.conf import server_settings
from oauth_server.net import client_address
from oauth_server.tokens import checksum

logger = logging.getLogger(__name__)

DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
# The status of a grant whose device code has been exchanged for tokens. DOT's
# statuses stop at "authorized", which it keeps answering with fresh tokens.
USED = "used"
# Refresh-token families of device grants are uuid5(this, hash of the device code):
# version 5, so they never meet DOT's random (version 4) families.
TOKEN_FAMILY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, DEVICE_GRANT_TYPE)
# How many fresh user codes to try when one is still held by a live grant.
USER_CODE_ATTEMPTS = 10


def device_token_family(grant: AbstractDeviceGrant) -> uuid.UUID:
    """The refresh-token family the tokens of `grant` belong to."""
    return uuid.uuid5(TOKEN_FAMILY_NAMESPACE, grant.device_code)


def device_grant_create(
    *, client_id: str, scope: str, device_code: str, user_code: str, expires_in: int
) -> AbstractDeviceGrant:
    """Store a device authorization, its device code hashed.

    The user code is made unlike any live one: two live grants sharing a code could
    let a person approve the wrong device.
    """
    model = get_device_grant_model()
    now = timezone.now()
    for _ in range(USER_CODE_ATTEMPTS):
        if not model.objects.filter(user_code=user_code, expires__gt=now).exists():
            break
        user_code = oauth2_settings.OAUTH_DEVICE_USER_CODE_GENERATOR()
    grant = model(
        client_id=client_id,
        device_code=checksum(device_code),
        user_code=user_code,
        scope=scope,
        expires=now + timedelta(seconds=expires_in),
    )
    grant.full_clean()
    grant.save()
    return grant


def grant_is_expired(grant: AbstractDeviceGrant) -> bool:
    """Expired, without DOT's `is_expired()` write (which would overwrite `used`)."""
    return grant.status == grant.EXPIRED or timezone.now() >= grant.expires


# --- user-code entry throttle ---------------------------------------------------------


@dataclass(frozen=True)
class UserCodeAttempt:
    """The cache keys one user-code entry counts against.

    Only failures count, and a success resets nothing: anyone can start a device
    flow and so hold a valid code, which must not buy more guesses.
    """

    user_key: str
    address_key: str

    @classmethod
    def of(cls, request: HttpRequest) -> "UserCodeAttempt":
        return cls(
            user_key=f"device-user-code-failures:user:{request.user.pk}",
            address_key=f"device-user-code-failures:address:{client_address(request)}",
        )

    def retry_after(self) -> int | None:
        """Seconds until entries are accepted again, or None when they are now."""
        conf = server_settings()
        limits = {
            self.user_key: conf.user_code_failures_per_user,
            self.address_key: conf.user_code_failures_per_address,
        }
        found = cache.get_many([*limits, *(f"{key}:until" for key in limits)])
        now = time.time()
        latest = now + conf.user_code_lockout_seconds  # if the window's end is lost
        waits = [
            max(1, round(found.get(f"{key}:until", latest) - now))
            for key, limit in limits.items()
            if found.get(key, 0) >= limit
        ]
        return max(waits) if waits else None

    def record_failure(self) -> None:
        timeout = server_settings().user_code_lockout_seconds
        for key in (self.user_key, self.address_key):
            # The window opens with the first failure and is not extended by more.
            if cache.add(key, 0, timeout=timeout):
                cache.set(f"{key}:until", time.time() + timeout, timeout=timeout)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=timeout)
        logger.warning(
            "wrong user code user=%s address=%s",
            self.user_key.rsplit(":", 1)[-1],
            self.address_key.rsplit(":", 1)[-1],
        )


# --- token endpoint -------------------------------------------------------------------


class DeviceCodeValidatorMixin:
    """The device-grant part of the request validator (`OAUTH2_VALIDATOR_CLASS`)."""

    def validate_device_code(
        self, device_code: str | None, client, request: OAuthlibRequest
    ) -> None:
        """Find the grant behind `device_code` for `client`; claim it if approved.

        Raises the RFC 8628 §3.5 error the poll deserves; on success the request
        carries the grant's user and scopes. The claim is a conditional UPDATE in
        the token request's transaction: on PostgreSQL parallel claims queue on the
        row lock and all but the first find it used; SQLite runs one writing
        transaction at a time.
        """
        if not device_code:
            raise errors.InvalidRequestError(
                description="Missing device_code.", request=request
            )
        model = get_device_grant_model()
        grant = model.objects.filter(device_code=checksum(device_code)).first()
        if grant is None or grant.client_id != client.client_id:
            # Another client's code is unknown to this one (RFC 8628 §3.4 binds it).
            logger.warning("unknown device code client=%s", client.client_id)
            raise errors.InvalidGrantError(
                description="Unknown device_code.", request=request
            )
        if grant.status == USED:
            self._device_code_replayed(grant, "used before")
            raise errors.InvalidGrantError(
                description="This device_code has already been used.", request=request
            )
        if grant_is_expired(grant):
            raise rfc8628_errors.ExpiredTokenError(request=request)
        if grant.status == grant.DENIED:
            raise rfc8628_errors.AccessDenied(request=request)
        if grant.status == grant.AUTHORIZATION_PENDING:
            # slow_down is a kind of authorization_pending (RFC 8628 §3.5); once the
            # user has decided, the answer does not wait.
            interval = oauth2_settings.DEVICE_FLOW_INTERVAL
            if interval > 0 and not cache.add(
                f"device-poll:{grant.device_code}", 1, timeout=interval
            ):
                raise rfc8628_errors.SlowDownError(request=request)
            raise rfc8628_errors.AuthorizationPendingError(request=request)
        claimed = model.objects.filter(pk=grant.pk, status=grant.AUTHORIZED).update(
            status=USED
        )
        if not claimed:
            self._device_code_replayed(grant, "claimed by a parallel poll")
            raise errors.InvalidGrantError(
                description="This device_code has already been used.", request=request
            )
        # What the person approved, within what the application may still obtain.
        allowed = get_scopes_backend().get_available_scopes(
            application=client, request=request
        )
        request.scopes = [name for name in grant.scope.split() if name in allowed]
        request.scope = " ".join(request.scopes)
        request.device_grant = grant
        request.user = grant.user
        logger.info(
            "device code redeemed client=%s user=%s", client.client_id, grant.user_id
        )

    def save_device_token(self, token: dict, request: OAuthlibRequest) -> None:
        """Put the refresh token issued for a device code in the grant's family."""
        refresh_token = token.get("refresh_token")
        if refresh_token:
            get_refresh_token_model().objects.filter(
                token_checksum=checksum(refresh_token)
            ).update(token_family=device_token_family(request.device_grant))

    def _device_code_replayed(self, grant: AbstractDeviceGrant, how: str) -> None:
        """A used device code came back: whoever holds it is not to be trusted."""
        get_refresh_token_model().revoke_family(device_token_family(grant))
        logger.warning(
            "device code replayed (%s); its tokens revoked client=%s user=%s",
            how,
            grant.client_id,
            grant.user_id,
        )


class DeviceCodeGrant(BaseDeviceCodeGrant):
    """oauthlib's device grant, plus the checks it leaves to the server.

    oauthlib 3.3.1 checks the client but not the device code, and runs no token
    modifiers (so no ID token); `create_token_response` is its own with the
    modifier loop its authorization-code grant has.
    """

    def validate_token_request(self, request: OAuthlibRequest) -> None:
        super().validate_token_request(request)
        self.request_validator.validate_device_code(
            getattr(request, "device_code", None), request.client, request
        )
        audience.validate_token_resource(request)  # once the grant's scopes are known

    def create_token_response(self, request: OAuthlibRequest, token_handler):
        headers = self._get_default_headers()
        try:
            if self.request_validator.client_authentication_required(
                request
            ) and not self.request_validator.authenticate_client(request):
                raise errors.InvalidClientError(request=request)
            self.validate_token_request(request)
        except errors.OAuth2Error as error:
            headers.update(error.headers)
            return headers, error.json, error.status_code

        token = token_handler.create_token(request, self.refresh_token)
        for modifier in self._token_modifiers:
            token = modifier(token, token_handler, request)
        self.request_validator.save_token(token, request)
        self.request_validator.save_device_token(token, request)
        return headers, json.dumps(token), 200


class OpenIDDeviceCodeGrant(OpenIDGrantTypeBase):
    """The device grant with an ID token when `openid` was granted (OIDC Core §3.1.3.3).

    oauthlib's OpenID wrapper, as for the code grant: `add_id_token` builds `aud`,
    `iat` and `at_hash` and DOT's validator signs it; there is no nonce to carry.
    """

    def __init__(self, request_validator=None, **kwargs) -> None:
        self.proxy_target = DeviceCodeGrant(
            request_validator=request_validator, **kwargs
        )
        self.register_token_modifier(self.add_id_token)
