"""Token exchange (RFC 8693): a resource server calls another on the user's behalf.

The catalogue MCP server receives a token whose audience is itself; to call the REST
API it exchanges that token for one whose audience is the API, instead of passing
the user's token through. The rules:

- Only a confidential client that the registry (`resource_servers.py`) names as the
  client of a resource server may exchange, and only a subject token minted for
  that resource server (its audience): a token is exchanged by the party it was
  given to, never by whoever else holds it.
- The subject token is a live access token of a user (`token_is_live`); the new
  token's scope is at most subject ∩ what the target accepts ∩ what was asked,
  it belongs to the same user and application (so removing that application's
  access, or deactivating it, revokes it too), lives no longer than the subject
  token, and comes without a refresh token.
- The delegation is recorded (`TokenDelegation`, `act` in introspection) and
  audited (`token.exchanged`).
"""

import json
import logging
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.base import GrantTypeBase

from oauth_server import audience, audit, resource_servers
from oauth_server.models import Application, TokenDelegation
from oauth_server.tokens import checksum, token_is_live

logger = logging.getLogger(__name__)

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
# RFC 8693 §2.1 parameters that must appear at most once.
SINGLE_PARAMS = (
    "grant_type",
    "subject_token",
    "subject_token_type",
    "requested_token_type",
    "scope",
)
DEAD_SUBJECT = "The subject_token is invalid, expired or revoked."


def _param(request: Request, name: str) -> str | None:
    values = [value for key, value in request.decoded_body or [] if key == name]
    return values[0] if values else None


class TokenExchangeGrant(GrantTypeBase):
    """`grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693 §2)."""

    def create_token_response(self, request: Request, token_handler):
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as error:
            headers.update(error.headers)
            return headers, error.json, error.status_code
        token = token_handler.create_token(request, refresh_token=False)
        token.pop("refresh_token", None)  # RFC 8693 §2.2.1: none for a delegation
        token["expires_in"] = request.exchange_expires_in
        token["issued_token_type"] = ACCESS_TOKEN_TYPE
        exchanged_token_save(token=token, request=request)
        return headers, json.dumps(token), 200

    def validate_token_request(self, request: Request) -> None:
        for validator in self.custom_validators.pre_token:
            validator(request)
        for name in SINGLE_PARAMS:
            if name in request.duplicate_params:
                raise errors.InvalidRequestError(
                    description=f"Duplicate {name} parameter.", request=request
                )
        # The client authenticates with its own secret (RFC 8693 §2.1); our
        # validator raises invalid_client saying why when it does not.
        if not self.request_validator.authenticate_client(request):
            raise errors.InvalidClientError(request=request)
        client = request.client
        request.client_id = client.client_id
        acting = resource_servers.of_client(audience.servers(), client.client_id)
        if acting is None or client.client_type != Application.CLIENT_CONFIDENTIAL:
            raise errors.UnauthorizedClientError(
                description=(
                    "Only the confidential client of a registered resource server "
                    "may exchange tokens."
                ),
                request=request,
            )
        subject_value = _param(request, "subject_token")
        if not subject_value:
            raise errors.InvalidRequestError(
                description="subject_token is missing.", request=request
            )
        if _param(request, "subject_token_type") != ACCESS_TOKEN_TYPE:
            raise errors.InvalidRequestError(
                description=f"subject_token_type must be {ACCESS_TOKEN_TYPE}.",
                request=request,
            )
        requested_type = _param(request, "requested_token_type")
        if requested_type not in (None, ACCESS_TOKEN_TYPE):
            raise errors.InvalidRequestError(
                description=f"requested_token_type must be {ACCESS_TOKEN_TYPE}.",
                request=request,
            )
        if _param(request, "actor_token") is not None:
            raise errors.InvalidRequestError(
                description="actor_token is not supported: the client is the actor.",
                request=request,
            )
        resources = audience.token_resources(request)
        if not resources:
            raise errors.InvalidRequestError(
                description=(
                    "resource is required: the canonical URI of the resource the "
                    f"new token is for ({audience.known_values()})."
                ),
                request=request,
            )
        target = audience.target(resources, request)
        subject = self._subject(subject_value, acting, request)
        request.user = subject.user
        request.subject_token_instance = subject
        request.scopes = self._scopes(subject, target, request)
        request.resource = [target.uri]
        now = timezone.now()
        request.exchange_expires = min(
            subject.expires,
            now + timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS),
        )
        request.exchange_expires_in = int(
            (request.exchange_expires - now).total_seconds()
        )
        if request.exchange_expires_in <= 0:
            raise errors.InvalidGrantError(description=DEAD_SUBJECT, request=request)
        for validator in self.custom_validators.post_token:
            validator(request)

    @staticmethod
    def _subject(value: str, acting, request: Request):
        """The live user token `value` names, minted for the `acting` server."""
        subject = (
            get_access_token_model()
            .objects.select_related("application", "user")
            .filter(token_checksum=checksum(value))
            .first()
        )
        if subject is None or not token_is_live(subject) or subject.user is None:
            logger.warning(
                "token exchange refused: dead subject client=%s",
                request.client.client_id,
            )
            raise errors.InvalidGrantError(description=DEAD_SUBJECT, request=request)
        if not any(audience.server_for(uri) == acting for uri in subject.resource):
            logger.warning(
                "token exchange refused: subject for another audience client=%s",
                request.client.client_id,
            )
            raise errors.InvalidGrantError(
                description=(
                    f"The subject_token was not issued for {acting.uri}, the "
                    "resource server this client acts as."
                ),
                request=request,
            )
        return subject

    @staticmethod
    def _scopes(subject, target, request: Request) -> list[str]:
        """Subject ∩ target ∩ requested; asking for more is `invalid_scope`."""
        available = [name for name in subject.scope.split() if name in target.scopes]
        if not request.scopes:
            if not available:
                raise errors.InvalidScopeError(
                    description=(
                        f"The subject_token carries no scope {target.uri} accepts."
                    ),
                    request=request,
                )
            return available
        beyond = [name for name in request.scopes if name not in available]
        if beyond:
            raise errors.InvalidScopeError(
                description=(
                    f"Scope(s) beyond the subject_token and {target.uri}: "
                    f"{' '.join(beyond)}. Available: {' '.join(available) or 'none'}."
                ),
                request=request,
            )
        return list(dict.fromkeys(request.scopes))


def exchanged_token_save(*, token: dict, request: Request) -> None:
    """Store the new access token, its delegation and the audit event.

    The token endpoint runs the exchange in one transaction (views.TokenView).
    """
    subject = request.subject_token_instance
    access_token = get_access_token_model()(
        user=subject.user,
        application=subject.application,
        scope=token["scope"],
        expires=request.exchange_expires,
        resource=request.resource,
    )
    set_token_value(access_token, token["access_token"])
    access_token.save()
    TokenDelegation.objects.create(access_token=access_token, actor=request.client)
    audit.record(
        audit.Event.TOKEN_EXCHANGED,
        request=request,
        user=subject.user,
        application=subject.application,
        actor=request.client.client_id,
        resource=request.resource[0],
        scopes=token["scope"].split(),
    )
    logger.info(
        "token exchanged actor=%s application=%s user=%s",
        request.client.client_id,
        getattr(subject.application, "client_id", None),
        subject.user.pk,
    )
