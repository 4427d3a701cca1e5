"""DOT request validator: user claims for OpenID Connect, and audit logging."""

import logging

from oauth2_provider.oauth2_validators import OAuth2Validator as BaseValidator
from oauthlib.oauth2.rfc6749 import errors

logger = logging.getLogger(__name__)


class OAuth2Validator(BaseValidator):
    """DOT's validator with our claims and warnings on refused grants."""

    # Which scope releases which claim (OIDC Core §5.4).
    oidc_claim_scope = {
        "sub": "openid",
        "name": "profile",
        "given_name": "profile",
        "family_name": "profile",
        "preferred_username": "profile",
        "email": "email",
        "email_verified": "email",
    }

    def get_additional_claims(self, request) -> dict[str, object]:
        user = request.user
        return {
            "name": user.get_full_name() or user.get_username(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.get_username(),
            "email": user.email,
            # Nothing here proves a user owns their address, so we never claim it.
            "email_verified": False,
        }

    def get_discovery_claims(self, request) -> list[str]:
        return list(self.oidc_claim_scope)

    def validate_response_type(
        self, client_id, response_type, client, request, *a, **kw
    ):
        # Hybrid types such as "code id_token" reach the code grant (they contain
        # "code"); we offer none of them, which is not the client's fault.
        if response_type != "code":
            raise errors.UnsupportedResponseTypeError(request=request)
        return super().validate_response_type(
            client_id, response_type, client, request, *a, **kw
        )

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        valid = super().validate_refresh_token(
            refresh_token, client, request, *args, **kwargs
        )
        if not valid:
            # A revoked (already rotated) token replayed is the theft signal of
            # RFC 9700 §4.14.2; DOT has then revoked the whole token family.
            logger.warning(
                "refresh token refused client=%s", getattr(client, "client_id", None)
            )
        return valid

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if not valid:
            logger.warning("authorization code refused client=%s", client_id)
        return valid
