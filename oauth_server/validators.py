"""DOT request validator: user claims for OpenID Connect, and audit logging."""

import hashlib
import logging

from django.core.cache import cache
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator as BaseValidator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from oauth_server import auth_time

logger = logging.getLogger(__name__)


def checksum(value: str) -> str:
    """SHA-256 hex digest, the form DOT stores tokens in."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def used_code_key(code: str) -> str:
    return "oauth:used-code:" + checksum(code)


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

    # --- prompt and auth_time (OIDC Core §2, §3.1.2.1) ---------------------------

    def validate_silent_login(self, request) -> bool:
        # prompt=none is answered by the authorization view before oauthlib is asked:
        # the view has the session, oauthlib's request does not (views.py).
        return True

    def validate_silent_authorization(self, request) -> bool:
        return True  # as validate_silent_login: the view decides, with the session

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        # Set by the authorization view from the session; vars(), because oauthlib
        # answers any query parameter as an attribute too.
        signed_in_at = vars(request).get("session_auth_time")
        if signed_in_at is not None:
            auth_time.auth_time_save_for_code(
                code=code["code"], signed_in_at=signed_in_at
            )

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(
            token, token_handler, request
        )
        # DOT says user.last_login: the latest sign-in anywhere, not this one.
        request.signed_in_at = auth_time.auth_time_of_token_request(request)
        if request.signed_in_at is not None:
            claims["auth_time"] = int(request.signed_in_at.timestamp())
        return claims, expiration_time

    def finalize_id_token(self, id_token, token, token_handler, request):
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        if vars(request).get("signed_in_at") is not None:
            auth_time.auth_time_save_for_id_token(
                id_token=request.id_token, signed_in_at=request.signed_in_at
            )
        return signed

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

    def save_bearer_token(self, token, request, *args, **kwargs):
        super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            # Remember which tokens this code produced, while they can live, so a
            # replay of the code can take them back (RFC 6749 §4.1.2, RFC 9700 §4.5).
            cache.set(
                used_code_key(request.code),
                {
                    "access": checksum(token["access_token"]),
                    "refresh": checksum(token.get("refresh_token") or ""),
                },
                timeout=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
            )

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if not valid:
            logger.warning("authorization code refused client=%s", client_id)
            issued = cache.get(used_code_key(code))
            if issued:
                self._revoke_tokens_of_replayed_code(issued, client_id)
        return valid

    def _revoke_tokens_of_replayed_code(
        self, issued: dict[str, str], client_id
    ) -> None:
        """A used code came back: whoever holds it is not to be trusted."""
        refresh_model = get_refresh_token_model()
        refresh = refresh_model.objects.filter(token_checksum=issued["refresh"]).first()
        if refresh is not None and refresh.token_family:
            refresh_model.revoke_family(refresh.token_family)
        get_access_token_model().objects.filter(
            token_checksum=issued["access"]
        ).delete()
        logger.warning(
            "authorization code replayed; its tokens revoked client=%s", client_id
        )
