"""Clients that register themselves: dynamic registration (RFC 7591/7592) under
the policy an administrator sets (`RegistrationPolicy`), and its clean-up.

The views (oauth_server/registration_views.py) parse HTTP and call the services
here; client ID metadata documents are in oauth_server/cimd.py, the clean-up of
unused registrations in oauth_server/registration_cleanup.py. Every write records
its audit event in its own transaction.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_refresh_token_model,
    set_token_value,
)
from oauth2_provider.settings import oauth2_settings

from oauth_server import audit, capabilities, scopes, services
from oauth_server.models import (
    Application,
    RegistrationPolicy,
)
from oauth_server.net import client_address

logger = logging.getLogger(__name__)

Source = Application.RegistrationSource
SELF_REGISTERED = (Source.DCR, Source.CIMD)

# RFC 7591 §2 defaults: a client that names nothing asks for the code grant and
# authenticates with a secret; under the public-only policy the server substitutes
# "none" (§2 lets it replace requested values; the response says what it chose).
DEFAULT_GRANT_TYPES = [capabilities.AUTHORIZATION_CODE]
DEFAULT_AUTH_METHOD = "client_secret_basic"
ALLOWED_GRANT_TYPES = {capabilities.AUTHORIZATION_CODE, capabilities.REFRESH_TOKEN}
RATE_WINDOW_SECONDS = 3600
RATE_KEY = "registration:rate:{address}"


class RegistrationError(Exception):
    """A refused registration: an RFC 7591 §3.2.2 error code and why."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class Registered:
    """A registered client and the credentials it is shown once."""

    application: Application
    registration_access_token: str
    client_secret: str | None


def registration_rate_exceeded(*, request: HttpRequest | object, limit: int) -> bool:
    """Count one registration from the client address; True past `limit` an hour.

    Counted in the default cache (shared between processes with Redis), one fixed
    window per address from its first registration.
    """
    address = client_address(request) or "unknown"
    key = RATE_KEY.format(address=address)
    cache.add(key, 0, RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW_SECONDS)
        count = 1
    return count > limit


def metadata_to_fields(
    *, metadata: object, policy: RegistrationPolicy
) -> dict[str, object]:
    """RFC 7591 §2 client metadata as Application fields, or RegistrationError.

    Only what the policy allows: the code grant (PKCE is required of every
    client), public clients unless the policy allows secrets, the policy's
    scopes. Logo, home page and policy URLs are not taken from unverified
    registrations: the consent page would show them as if we vouched for them.
    """
    if not isinstance(metadata, dict):
        raise RegistrationError(
            "invalid_client_metadata", "The request body must be a JSON object."
        )
    redirect_uris = metadata.get("redirect_uris")
    if (
        not isinstance(redirect_uris, list)
        or not redirect_uris
        # Stored space-separated: a URI with whitespace in it would become two.
        or not all(
            isinstance(uri, str) and uri and not _has_space(uri)
            for uri in redirect_uris
        )
    ):
        raise RegistrationError(
            "invalid_redirect_uri",
            "redirect_uris must be a non-empty array of https URLs (http only for "
            "loopback addresses, RFC 8252 §7.3).",
        )
    grant_types = metadata.get("grant_types", DEFAULT_GRANT_TYPES)
    if (
        not isinstance(grant_types, list)
        or not all(isinstance(grant, str) for grant in grant_types)
        or capabilities.AUTHORIZATION_CODE not in grant_types
        or not set(grant_types) <= ALLOWED_GRANT_TYPES
    ):
        raise RegistrationError(
            "invalid_client_metadata",
            "grant_types: only authorization_code (with refresh_token) can be "
            "registered; authorization requests need PKCE with S256.",
        )
    response_types = metadata.get("response_types", list(capabilities.RESPONSE_TYPES))
    if response_types != list(capabilities.RESPONSE_TYPES):
        raise RegistrationError(
            "invalid_client_metadata", 'response_types: only ["code"] is offered.'
        )
    public = capabilities.PUBLIC_CLIENT_AUTH_METHOD
    auth_method = metadata.get(
        "token_endpoint_auth_method",
        public if policy.public_clients_only else DEFAULT_AUTH_METHOD,
    )
    if policy.public_clients_only and auth_method != public:
        raise RegistrationError(
            "invalid_client_metadata",
            f"Only public clients can register here: send "
            f'"token_endpoint_auth_method": "{public}" and use PKCE.',
        )
    if auth_method not in (public, *capabilities.CLIENT_AUTH_METHODS):
        raise RegistrationError(
            "invalid_client_metadata",
            f"token_endpoint_auth_method must be one of: "
            f"{', '.join((public, *capabilities.CLIENT_AUTH_METHODS))}.",
        )
    requested = metadata.get("scope", policy.scopes)
    if not isinstance(requested, str):
        raise RegistrationError(
            "invalid_client_metadata", "scope must be a space-separated string."
        )
    names = scopes.parse(requested) or policy.scope_list
    if bad := scopes.unknown(names):
        raise RegistrationError(
            "invalid_client_metadata", f"Unknown scope(s): {' '.join(bad)}."
        )
    # RFC 7591 §2 lets a server replace what it will not grant; refusing says so
    # at once, instead of an invalid_scope at the first authorization request.
    if beyond := [name for name in names if name not in policy.scope_list]:
        raise RegistrationError(
            "invalid_client_metadata",
            f"Scope(s) not offered to registered clients: {' '.join(beyond)}. "
            f"Allowed: {' '.join(policy.scope_list)}.",
        )
    name = metadata.get("client_name") or urlsplit(redirect_uris[0]).hostname or ""
    contacts = metadata.get("contacts", [])
    if not isinstance(name, str) or not isinstance(contacts, list):
        raise RegistrationError(
            "invalid_client_metadata",
            "client_name must be a string and contacts an array of email addresses.",
        )
    texts = [name, *redirect_uris, requested, *contacts]
    if not all(text.isprintable() for text in texts if isinstance(text, str)):
        # NUL, control characters and lone surrogates: never stored (PostgreSQL
        # refuses NUL in text), never shown on the consent page.
        raise RegistrationError(
            "invalid_client_metadata", "Metadata must not hold control characters."
        )
    return {
        "name": name[: Application._meta.get_field("name").max_length],
        "redirect_uris": " ".join(redirect_uris),
        "authorization_grant_type": capabilities.REGISTERED_AUTHORIZATION_CODE,
        "client_type": (
            Application.CLIENT_PUBLIC
            if auth_method == public
            else Application.CLIENT_CONFIDENTIAL
        ),
        # The policy's scopes, not only those named: an agent registers with the
        # scope of its first challenge and steps up later (MCP authorization), and
        # each scope still needs the person's consent. RFC 7591 §3.2.1: the answer
        # says what was registered.
        "allowed_scopes": " ".join(policy.scope_list),
        "algorithm": (
            capabilities.ID_TOKEN_SIGNING_ALGORITHMS[0]
            if scopes.OPENID in policy.scope_list
            else ""
        ),
        "contacts": contacts,
    }


def _has_space(text: str) -> bool:
    return any(char.isspace() for char in text)


def _full_clean(app: Application) -> None:
    """`full_clean`, its errors as RFC 7591 §3.2.2 ones."""
    try:
        app.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
        code = (
            "invalid_redirect_uri"
            if "redirect_uris" in errors
            else "invalid_client_metadata"
        )
        description = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in errors.items()
        )
        raise RegistrationError(code, description) from None


def registration_token_issue(*, application: Application) -> str:
    """A new registration access token (RFC 7592 §3) for `application`; its value."""
    seconds = oauth2_settings.DCR_REGISTRATION_TOKEN_EXPIRE_SECONDS
    if seconds is None:
        expires = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    else:
        expires = timezone.now() + timedelta(seconds=seconds)
    value = generate_client_secret()
    token = get_access_token_model()(
        application=application,
        user=None,
        expires=expires,
        scope=oauth2_settings.DCR_REGISTRATION_SCOPE,
    )
    set_token_value(token, value)  # stored as a checksum only
    token.save()
    return value


@transaction.atomic
def registration_create(
    *, metadata: object, policy: RegistrationPolicy, request: HttpRequest
) -> Registered:
    """Register a client from RFC 7591 metadata; refused with RegistrationError."""
    fields = metadata_to_fields(metadata=metadata, policy=policy)
    app = Application(registration_source=Source.DCR, user=None, **fields)
    secret = None
    if app.client_type == Application.CLIENT_CONFIDENTIAL:
        secret = app.client_secret = generate_client_secret()
    else:
        app.client_secret = ""
    _full_clean(app)
    app.save()
    token = registration_token_issue(application=app)
    audit.record(
        audit.Event.APPLICATION_CREATED,
        request=request,
        application=app,
        via=Source.DCR.value,
        client_type=app.client_type,
        scopes=app.allowed_scope_list,
    )
    logger.info("client registered via=dcr client_id=%s", app.client_id)
    return Registered(app, token, secret)


@transaction.atomic
def registration_update(
    *,
    application: Application,
    metadata: object,
    policy: RegistrationPolicy,
    request: HttpRequest,
) -> str | None:
    """Replace a registered client's metadata (RFC 7592 §2.2).

    Returns a new registration access token when DOT's
    DCR_ROTATE_REGISTRATION_TOKEN_ON_UPDATE asks for one (the old one is gone).
    """
    if isinstance(metadata, dict) and metadata.get(
        "client_id", application.client_id
    ) != (application.client_id):
        raise RegistrationError(
            "invalid_client_metadata", "client_id does not match this registration."
        )
    fields = metadata_to_fields(metadata=metadata, policy=policy)
    if fields["client_type"] != application.client_type:
        raise RegistrationError(
            "invalid_client_metadata",
            "token_endpoint_auth_method cannot change; register a new client.",
        )
    changed = [
        name for name, value in fields.items() if getattr(application, name) != value
    ]
    for name, value in fields.items():
        setattr(application, name, value)
    _full_clean(application)
    application.save()
    new_token = None
    if oauth2_settings.DCR_ROTATE_REGISTRATION_TOKEN_ON_UPDATE:
        get_access_token_model().objects.filter(
            application=application, scope=oauth2_settings.DCR_REGISTRATION_SCOPE
        ).delete()
        new_token = registration_token_issue(application=application)
    audit.record(
        audit.Event.APPLICATION_CHANGED,
        request=request,
        application=application,
        via=Source.DCR.value,
        fields=changed,
    )
    logger.info("registration updated client_id=%s", application.client_id)
    return new_token


@transaction.atomic
def registration_delete(
    *, application: Application, request: HttpRequest | None, reason: str
) -> None:
    """Delete a self-registered client, its tokens and codes with it."""
    audit.record(
        audit.Event.APPLICATION_DELETED,
        request=request,
        application=application,
        via=application.registration_source,
        reason=reason,
    )
    client_id = application.client_id
    # Refresh tokens point at access tokens; the rest cascades.
    get_refresh_token_model().objects.filter(application=application).delete()
    application.delete()
    logger.info("registration deleted client_id=%s reason=%s", client_id, reason)


@transaction.atomic
def registration_policy_save(
    *, policy: RegistrationPolicy, request: HttpRequest | None = None
) -> RegistrationPolicy:
    """Save the policy; registered clients lose the scopes it no longer allows.

    Clients known by their metadata document get exactly the policy's scopes; a
    dynamically registered one keeps what is still allowed, and is deactivated
    when nothing is.
    """
    policy.full_clean()
    policy.save()
    allowed = set(policy.scope_list)
    for app in Application.objects.filter(
        registration_source__in=SELF_REGISTERED
    ).select_for_update():
        before = app.allowed_scope_list
        if app.registration_source == Source.CIMD:
            policy.apply_to_cimd(app)
        else:
            app.allowed_scopes = " ".join(n for n in before if n in allowed)
        if app.allowed_scope_list == before:
            continue
        if not app.allowed_scopes:
            services.application_deactivate(client_id=app.client_id, request=request)
            continue
        app.save(update_fields=["allowed_scopes", "algorithm", "name", "updated"])
        audit.record(
            audit.Event.APPLICATION_CHANGED,
            request=request,
            user=getattr(request, "user", None),
            application=app,
            via="registration_policy",
            fields=["allowed_scopes"],
        )
    return policy


def registration_notice(application: Application | None) -> dict[str, str] | None:
    """What the consent page must say about how `application` registered itself."""
    if application is None:
        return None
    if application.registration_source == Source.CIMD:
        return {
            "kind": Source.CIMD.value,
            "host": urlsplit(application.client_id).hostname or "",
        }
    if application.registration_source == Source.DCR:
        return {"kind": Source.DCR.value}
    return None
