"""DOT request validator: one-time codes and refresh tokens decided in the database,
token liveness, user claims for OpenID Connect, and warnings on refused grants.
"""

import base64
import functools
import hashlib
import hmac
import json
import logging
import re
from contextvars import ContextVar
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.cimd import is_cimd_client_id
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator as BaseValidator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from common import db
from oauth_server import audit, auth_time, capabilities, token_cache
from oauth_server.cimd import RecordCIMDRegistrationMixin
from oauth_server.conf import server_settings
from oauth_server.device import DeviceCodeValidatorMixin
from oauth_server.http import basic_credentials
from oauth_server.models import Application, AuditEvent, RedeemedCode
from oauth_server.tokens import checksum, token_is_live

logger = logging.getLogger(__name__)

# RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


UNKNOWN_CLIENT = "Unknown client_id, or the application is deactivated."
CONFIDENTIAL_CLIENT_WITHOUT_SECRET = (
    "This client is confidential: send its client_secret, preferably with HTTP "
    "Basic (RFC 6749 §2.3.1)."
)
UNSUPPORTED_RESPONSE_TYPE = "Only response_type=code is offered."


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _commits_without_waiting_for_the_disk() -> bool:
    """Whether a client-credentials token's commit skips PostgreSQL's WAL flush.

    On the benchmark's VM a flush took 4 ms at the median, longer than the rest
    of a client-credentials token request. Only for that grant: it stores a new
    token and its audit event and changes nothing else, so a database crash can
    only forget both (`client_credentials_async_commit`, oauth_server/conf.py).
    """
    return server_settings().client_credentials_async_commit


# What a bearer lookup does besides, during `validate_bearer_token` (below).
_lookup_ahead: ContextVar[object] = ContextVar("bearer_lookup_ahead", default=None)


class OAuth2Validator(
    RecordCIMDRegistrationMixin, DeviceCodeValidatorMixin, BaseValidator
):
    """DOT's validator, made safe under parallel requests and deactivation.

    The device grant's own methods live in oauth_server/device.py.
    """

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

    @classmethod
    @functools.cache
    def _get_additional_claims_is_request_agnostic(cls) -> bool:
        # DOT inspects `get_additional_claims`'s signature twice per ID token and
        # userinfo answer; a class's signature does not change.
        return super()._get_additional_claims_is_request_agnostic()

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
        if response_type not in capabilities.RESPONSE_TYPES:
            raise errors.UnsupportedResponseTypeError(
                description=UNSUPPORTED_RESPONSE_TYPE, request=request
            )
        return super().validate_response_type(
            client_id, response_type, client, request, *a, **kw
        )

    # --- Refusals that say why (RFC 6749 §5.2 error_description) ----------------------
    # oauthlib raises these errors without a description when a check returns False;
    # raising them here, inside the grant's own error handling, adds one.

    def _load_application(self, client_id, request):
        # DOT reuses a `request.client` with this client_id that is still usable;
        # the cached application spares the query on every client authentication.
        # Metadata-document client ids keep DOT's path (fetch, refresh when stale),
        # and so do ids with a NUL, which PostgreSQL refuses in a query.
        if (
            isinstance(client_id, str)
            and client_id
            and "\x00" not in client_id
            and not getattr(request, "client", None)
            and not is_cimd_client_id(client_id)
        ):
            request.client = token_cache.application_get(client_id=client_id)
        return super()._load_application(client_id, request)

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        if super().authenticate_client(request, *args, **kwargs):
            return True
        raise errors.InvalidClientError(
            description=self._client_auth_problem(request), request=request
        )

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        if super().authenticate_client_id(client_id, request, *args, **kwargs):
            return True
        if request.client is None:
            problem = UNKNOWN_CLIENT
        else:
            problem = CONFIDENTIAL_CLIENT_WITHOUT_SECRET
        raise errors.InvalidClientError(description=problem, request=request)

    @staticmethod
    def _client_auth_problem(request) -> str:
        """Why the client credentials of `request` did not authenticate it."""
        try:
            credentials = basic_credentials(request)
        except ValueError as exc:
            return str(exc)
        if credentials is None:
            credentials = (request.client_id, getattr(request, "client_secret", None))
        client_id, secret = credentials
        if not client_id:
            return (
                "Client authentication is required: send client_id and client_secret "
                "with HTTP Basic (RFC 6749 §2.3.1)."
            )
        app = Application.objects.filter(client_id=client_id).first()
        if app is None or not app.is_active:
            return UNKNOWN_CLIENT
        if not secret:
            return CONFIDENTIAL_CLIENT_WITHOUT_SECRET
        return "Wrong client_secret for this client_id."

    def validate_grant_type(
        self, client_id, grant_type, client, request, *args, **kwargs
    ) -> bool:
        if grant_type not in capabilities.GRANT_TYPES:
            # oauthlib's code grant also answers grant_type=openid, which DOT's
            # mapping does not know (an AssertionError, a 500).
            raise errors.UnsupportedGrantTypeError(
                description=(
                    f"grant_type must be one of: {', '.join(capabilities.GRANT_TYPES)}."
                ),
                request=request,
            )
        if super().validate_grant_type(
            client_id, grant_type, client, request, *args, **kwargs
        ):
            return True
        raise errors.UnauthorizedClientError(
            description=(
                f"This client is registered for the "
                f"{client.authorization_grant_type} grant, not {grant_type}."
            ),
            request=request,
        )

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        if not client.allowed_scope_list:
            # Registered in the developer portal, its scopes not yet approved: a
            # token for no scope at all would be of no use, and is not issued.
            raise errors.InvalidScopeError(
                description="No scope is allowed for this client yet: an "
                "administrator has to approve the scopes it requested.",
                request=request,
            )
        if super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return True
        allowed = set(client.allowed_scope_list)
        refused = [name for name in scopes if name not in allowed]
        raise errors.InvalidScopeError(
            description=(
                f"Scope(s) not allowed for this client: {' '.join(refused)}. "
                f"Allowed: {' '.join(client.allowed_scope_list)}."
            ),
            request=request,
        )

    # --- Bearer tokens (resource API, userinfo) ---------------------------------------

    def _load_access_token(self, token: str):
        # DOT's lookup for validate_bearer_token, answered from the shared cache,
        # with the resource server's throttle counters when it sent them along.
        return token_cache.access_token_get(
            checksum=checksum(token), ahead=_lookup_ahead.get()
        )

    def validate_bearer_token(self, token, scopes, request) -> bool:
        # DOT's `_load_access_token` gets only the token: what the request asks
        # the lookup to do besides (resources.authentication.BearerCheck.ahead)
        # waits in a context variable (DOT shares a validator between requests).
        reset = _lookup_ahead.set(getattr(request, "ahead", None))
        try:
            valid = super().validate_bearer_token(token, scopes, request)
        finally:
            _lookup_ahead.reset(reset)
        if valid and not token_is_live(request.access_token):
            request.oauth2_error = {
                "error": "invalid_token",
                "error_description": "The access token is no longer valid.",
            }
            return False
        return valid

    # --- Authorization codes: one use, decided under a row lock ------------------------

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        """Take the code's grant under a row lock; a failed attempt spends the code.

        Of parallel redemptions of one code, one holds the lock and deletes the grant
        when it issues tokens; the others then find no grant, and a record of the
        redemption, which makes them replays (RFC 6749 §4.1.2, RFC 9700 §4.5).
        """
        grant = (
            get_grant_model()
            .objects.select_for_update()
            .select_related("user")
            .filter(code=code, application=client)
            .first()
        )
        if grant is None:
            self._revoke_tokens_of_replayed_code(code, client, request)
            raise errors.InvalidGrantError(
                description="The authorization code is invalid, expired or already used.",
                request=request,
            )
        problem = None
        if grant.is_expired():
            problem = "The authorization code has expired."
        elif not grant.user.is_active:
            problem = "The user who granted this code is no longer active."
        elif not self._pkce_verified(grant, request):
            # RFC 7636 §4.6 and RFC 9700 §2.1.1: a wrong verifier must not leave the
            # code usable for another guess.
            problem = "PKCE verification failed: code_verifier does not match."
        if problem:
            grant.delete()
            logger.warning("authorization code refused client=%s", client_id)
            if grant.code_challenge and not request.code_verifier:
                raise errors.MissingCodeVerifierError(
                    description=(
                        "code_verifier is missing: send the PKCE verifier whose S256 "
                        "challenge the authorization request carried (RFC 7636 §4.5)."
                    ),
                    request=request,
                )
            raise errors.InvalidGrantError(description=problem, request=request)
        request.grant_instance = grant  # read again below instead of re-querying
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return True

    @staticmethod
    def _pkce_verified(grant, request) -> bool:
        verifier = request.code_verifier or ""
        if not grant.code_challenge:
            return True  # PKCE_REQUIRED: oauthlib refuses a code without a challenge
        if grant.code_challenge_method != "S256" or not PKCE_VALUE.fullmatch(verifier):
            return False
        return hmac.compare_digest(s256(verifier), grant.code_challenge)

    def _grant_of(self, code: str, request):
        # vars(), not getattr(): oauthlib answers unknown attributes from the
        # request's parameters, which the client chooses.
        grant = vars(request).get("grant_instance")
        return grant if grant is not None and grant.code == code else None

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        if grant := self._grant_of(code, request):
            return grant.nonce or None
        return super().get_authorization_code_nonce(
            client_id, code, redirect_uri, request
        )

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        # The grant validate_code locked is deleted as it is, without DOT's re-read.
        grant = self._grant_of(code, request)
        if grant is None:
            return super().invalidate_authorization_code(
                client_id, code, request, *args, **kwargs
            )
        _count, deleted = grant.delete()
        if not deleted.get(grant._meta.label):
            raise errors.InvalidGrantError(request=request)
        return None

    def get_code_challenge(self, code, request):
        if grant := self._grant_of(code, request):
            return grant.code_challenge or None
        return super().get_code_challenge(code, request)

    def get_code_challenge_method(self, code, request):
        if grant := self._grant_of(code, request):
            return grant.code_challenge_method or None
        return super().get_code_challenge_method(code, request)

    def confirm_redirect_uri(
        self, client_id, code, redirect_uri, client, request=None, *args, **kwargs
    ) -> bool:
        if request is not None and (grant := self._grant_of(code, request)):
            return grant.redirect_uri_allowed(redirect_uri)
        return super().confirm_redirect_uri(
            client_id, code, redirect_uri, client, request, *args, **kwargs
        )

    def save_bearer_token(self, token, request, *args, **kwargs) -> None:
        # DOT's save_bearer_token is `_save_bearer_token` inside atomic(). For
        # client credentials the token view opens no transaction, so this one
        # commits the token and its audit event together; for the other grants the
        # view's transaction holds the validator's row locks, and a savepoint would
        # be a pair of round trips for nothing: an exception here rolls the whole
        # request back (TokenView.post), as it did with the savepoint.
        if (
            request.grant_type == "client_credentials"
            and connection.vendor == "postgresql"
        ):
            self._save_client_credentials_token(token, request, *args, **kwargs)
            return
        with transaction.atomic(savepoint=False):
            self._save_bearer_token(token, request, *args, **kwargs)
            self._record_issued(token, request)
            if request.grant_type == "authorization_code":
                # In the same transaction as the tokens: a replay of the code, now
                # or later, finds which tokens to revoke.
                lifetime = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS + (
                    oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS or 0
                )
                RedeemedCode.objects.create(
                    code_checksum=checksum(request.code),
                    application=request.client,
                    access_token_checksum=checksum(token["access_token"]),
                    refresh_token_checksum=checksum(token.get("refresh_token") or ""),
                    expires=timezone.now() + timedelta(seconds=lifetime),
                )

    def _save_client_credentials_token(self, token, request, *args, **kwargs) -> None:
        """The token, its audit event (and `SET LOCAL synchronous_commit TO OFF`)
        in one round trip to PostgreSQL: one statement string, one transaction.

        The token view opens no transaction for this grant, so the three would
        otherwise be five round trips (BEGIN, SET, INSERT, INSERT, COMMIT), most of
        the request's time. DOT's `_save_bearer_token` still decides everything
        (scope, resource, expiry); its `_create_access_token` (below) sends the
        string. Should DOT not call it, the event is stored on its own. The
        statements wait on the oauthlib request, not on the validator: DOT shares
        one validator between all requests, and threads.
        """
        request.user = None  # as DOT sets it for this grant, before the event
        along = [db.insert_statement(self._issued_event(token, request))]
        if _commits_without_waiting_for_the_disk():
            along.append(("SET LOCAL synchronous_commit TO OFF", ()))
        request.statements_along = along
        try:
            self._save_bearer_token(token, request, *args, **kwargs)
        finally:
            along, request.statements_along = request.statements_along, None
        if along:
            with connection.cursor() as cursor:
                for sql, params in along:
                    cursor.execute(sql, params)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        along = getattr(request, "statements_along", None)
        if not along or token.get("id_token"):
            return super()._create_access_token(
                expires, request, token, source_refresh_token
            )
        # DOT's row, built as its `_create_access_token` builds it, stored with
        # the statements riding along (`_save_client_credentials_token`).
        access_token = get_access_token_model()(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),  # RFC 8707
        )
        self._set_token_value(access_token, token["access_token"])
        request.statements_along = None
        db.insert_with(access_token, along)
        return access_token

    @classmethod
    def _record_issued(cls, token: dict, request) -> None:
        """Store the audit event of tokens just stored."""
        cls._issued_event(token, request).save(force_insert=True)

    @staticmethod
    def _issued_event(token: dict, request) -> AuditEvent:
        """The audit event of tokens issued: which grant, which scopes."""
        refreshed = request.grant_type == "refresh_token"
        return audit.unsaved(
            audit.Event.TOKEN_REFRESHED if refreshed else audit.Event.TOKEN_ISSUED,
            request=request,
            user=request.user,
            application=request.client,
            grant_type=request.grant_type,
            scopes=str(token.get("scope", "")).split(),
        )

    def _revoke_tokens_of_replayed_code(self, code: str, client, request) -> None:
        """A used code came back: whoever holds it is not to be trusted."""
        redeemed = RedeemedCode.objects.filter(code_checksum=checksum(code)).first()
        if redeemed is None:
            return
        refresh_model = get_refresh_token_model()
        family, user_id = (
            refresh_model.objects.filter(token_checksum=redeemed.refresh_token_checksum)
            .values_list("token_family", "user_id")
            .first()
        ) or (None, None)
        if family:
            refresh_model.revoke_family(family)
        get_access_token_model().objects.filter(
            token_checksum=redeemed.access_token_checksum
        ).delete()
        audit.record(
            audit.Event.TOKEN_REUSE_DETECTED,
            request=request,
            user=user_id,
            application=client,
            grant_type="authorization_code",
        )
        logger.warning(
            "authorization code replayed; its tokens revoked client=%s",
            client.client_id,
        )

    # --- Refresh tokens: rotation decided under a row lock -----------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """Lock the refresh token's rows before DOT reads them (RFC 9700 §4.14.2).

        Of parallel refreshes with one token, one rotates it while the others wait
        here; they then read it revoked, a replay, and DOT revokes the whole family,
        the winner's new tokens included.
        """
        locked = list(
            get_refresh_token_model()
            .objects.select_for_update()
            .filter(token_checksum=checksum(refresh_token))
            .values_list("revoked", "token_family", "user_id")
        )
        valid = super().validate_refresh_token(
            refresh_token, client, request, *args, **kwargs
        )
        if valid and not token_is_live(request.refresh_token_instance):
            valid = False
        if not valid and self._replayed(locked):
            # DOT has just revoked the family (REFRESH_TOKEN_REUSE_PROTECTION): the
            # rows locked above say so without another read.
            audit.record(
                audit.Event.TOKEN_REUSE_DETECTED,
                request=request,
                user=locked[0][2],
                application=client,
                grant_type="refresh_token",
            )
        if not valid:
            logger.warning(
                "refresh token refused client=%s", getattr(client, "client_id", None)
            )
            raise errors.InvalidGrantError(
                description=(
                    "The refresh token is invalid, expired, revoked or was issued "
                    "to another client."
                ),
                request=request,
            )
        return valid

    @staticmethod
    def _replayed(rows: list[tuple]) -> bool:
        """Whether DOT took these refresh-token rows for a replay and revoked the
        family: every row revoked (a live one would be used instead), one in a
        family, revoked before the grace period. Within a grace period DOT also asks
        whether the token was superseded; that case is not recorded."""
        if not (oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION and rows):
            return False
        if any(revoked is None for revoked, _family, _user in rows):
            return False
        grace = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS)
        latest = max(revoked for revoked, _family, _user in rows)
        return latest <= timezone.now() - grace and any(
            family for _revoked, family, _user in rows
        )

    # --- Revocation (RFC 7009) ---------------------------------------------------------

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        # RFC 7009 §2.2: unknown tokens are answered alike, so the event records the
        # client's request (without a further read to tell which token it named).
        audit.record(
            audit.Event.TOKEN_REVOKED,
            request=request,
            application=request.client,
            token_type_hint=token_type_hint or "",
        )
