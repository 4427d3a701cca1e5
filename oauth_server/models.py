"""The registered application (OAuth client), swapped in for DOT's own model."""

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings

from oauth_server import capabilities, scopes

LOOPBACK_HOSTS = frozenset({"localhost"})


def is_loopback_host(host: str | None) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8 or ::1)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_contacts(value: object) -> None:
    """Contacts are a list of email addresses."""
    if not isinstance(value, list):
        raise ValidationError("Contacts must be a list of email addresses.")
    check = EmailValidator()
    for item in value:
        if not isinstance(item, str):
            raise ValidationError("Contacts must be a list of email addresses.")
        try:
            check(item)
        except ValidationError:
            raise ValidationError(f"{item!r} is not a valid email address.") from None


class Application(AbstractApplication):
    """An OAuth client, with the scopes it may ever obtain and what users see of it."""

    allowed_scopes = models.TextField(
        help_text=gettext_lazy(
            "Space-separated scopes this application may obtain; nothing else."
        ),
    )
    requested_scopes = models.TextField(
        blank=True,
        help_text=gettext_lazy(
            "Space-separated scopes the developer asks for, waiting for an "
            "administrator to approve or decline them."
        ),
    )
    description = models.TextField(blank=True)
    homepage_url = models.URLField(blank=True, max_length=500)
    logo_url = models.URLField(blank=True, max_length=500)
    policy_url = models.URLField(
        gettext_lazy("privacy-policy URL"), blank=True, max_length=500
    )
    contacts = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_contacts],
        help_text=gettext_lazy("Email addresses"),
    )
    is_active = models.BooleanField(
        default=True,
        help_text=gettext_lazy(
            "Inactive applications can neither sign in nor get tokens."
        ),
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        ordering = ["name", "pk"]

    @property
    def allowed_scope_list(self) -> list[str]:
        """The allowed scopes, in registry order."""
        allowed = set(self.allowed_scopes.split())
        return [name for name in scopes.SCOPES if name in allowed]

    @property
    def requested_scope_list(self) -> list[str]:
        """The requested scopes not yet allowed, in registry order."""
        requested = set(self.requested_scopes.split()) - set(
            self.allowed_scopes.split()
        )
        return [name for name in scopes.SCOPES if name in requested]

    def is_usable(self, request: object) -> bool:
        """Deactivated applications are treated as unknown clients, and so are
        clients known by their metadata document while the policy refuses those."""
        if self.registration_source == self.RegistrationSource.CIMD:
            return self.is_active and RegistrationPolicy.load().cimd_enabled
        return self.is_active

    def clean_fields(self, exclude=None) -> None:
        # `clean` says what an empty scope list needs; the field's own "cannot be
        # blank" would be a second message for the same problem.
        super().clean_fields(exclude={*(exclude or ()), "allowed_scopes"})

    def clean(self) -> None:
        if self.registration_source == self.RegistrationSource.CIMD:
            # DOT's CIMD resolver fills in what the document says; what such a
            # client may do comes from the registration policy.
            RegistrationPolicy.load().apply_to_cimd(self)
        errors: dict[str, list[str]] = {}
        try:
            super().clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        for field in ("redirect_uris", "post_logout_redirect_uris"):
            # DOT's "fragment not allowed" repeats ours below, less readably.
            if field in errors:
                errors[field] = [m for m in errors[field] if "fragment" not in m]
                if not errors[field]:
                    del errors[field]

        if not self.name.strip():
            errors.setdefault("name", []).append(
                "Name the application: users see the name on the consent page."
            )
        names = scopes.parse(self.allowed_scopes)
        requested = [n for n in scopes.parse(self.requested_scopes) if n not in names]
        if not names and not requested:
            errors.setdefault("allowed_scopes", []).append("Name at least one scope.")
        for field, chosen in (
            ("allowed_scopes", names),
            ("requested_scopes", requested),
        ):
            if problems := self._scope_problems(chosen):
                errors.setdefault(field, []).extend(problems)
        signing = capabilities.ID_TOKEN_SIGNING_ALGORITHMS
        if self.algorithm and self.algorithm not in signing:
            errors.setdefault("algorithm", []).append(
                f"ID tokens are signed with {', '.join(signing)} only."
            )
        elif scopes.OPENID in {*names, *requested} and self.algorithm not in signing:
            errors.setdefault("algorithm", []).append(
                f"Applications allowed the openid scope sign ID tokens with "
                f"{', '.join(signing)}."
            )
        offered = capabilities.APPLICATION_GRANT_TYPES.values()
        if self.authorization_grant_type not in offered:
            errors.setdefault("authorization_grant_type", []).append(
                f"Offered grants: {', '.join(offered)}."
            )
        elif (
            self.authorization_grant_type not in capabilities.REDIRECTING_GRANT_TYPES
            and self.redirect_uris.strip()
        ):
            errors.setdefault("redirect_uris", []).append(
                "This grant never redirects to the client; leave redirect URIs empty."
            )
        if (
            self.authorization_grant_type == self.GRANT_CLIENT_CREDENTIALS
            and self.client_type != self.CLIENT_CONFIDENTIAL
        ):
            errors.setdefault("client_type", []).append(
                "Client credentials need a confidential client."
            )
        for field in ("redirect_uris", "post_logout_redirect_uris"):
            for uri in getattr(self, field).split():
                parts = urlsplit(uri)
                if parts.scheme == "http" and not is_loopback_host(parts.hostname):
                    errors.setdefault(field, []).append(
                        f"{uri}: http is allowed for loopback hosts only; use https."
                    )
                if parts.fragment:
                    errors.setdefault(field, []).append(
                        f"{uri}: a redirect URI must not have a fragment."
                    )
        self.allowed_scopes = " ".join(names)
        self.requested_scopes = " ".join(requested)
        if errors:
            raise ValidationError(errors)

    def _scope_problems(self, names: list[str]) -> list[str]:
        """What is wrong with allowing these scopes to this application."""
        problems = []
        if bad := scopes.unknown(names):
            problems.append(
                _("Unknown scope(s): %(bad)s. Known: %(known)s.")
                % {"bad": ", ".join(bad), "known": ", ".join(scopes.SCOPES)}
            )
        user_only = sorted(scopes.USER_ONLY_SCOPES.intersection(names))
        if self.authorization_grant_type == self.GRANT_CLIENT_CREDENTIALS and user_only:
            problems.append(
                _(
                    "Client credentials have no signed-in user, so they cannot be "
                    "allowed %(scopes)s."
                )
                % {"scopes": ", ".join(user_only)}
            )
        if (
            scopes.INTROSPECTION in names
            and self.client_type != self.CLIENT_CONFIDENTIAL
        ):
            # RFC 7662 §2.1 and §4: introspection answers to authenticated clients
            # only; a public client has no secret to authenticate with.
            problems.append(_("introspection needs a confidential client."))
        return problems


class PersonalAccessToken(models.Model):
    """A named token a user made for themselves (scripts, CLI), with an expiry.

    The secret is a DOT access token (stored as a checksum, checked for expiry
    and scope by the same bearer path as OAuth tokens); this row adds the name.
    Revoking deletes the access token, and this row with it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personal_access_tokens",
    )
    name = models.CharField(max_length=100)
    # No database foreign key (see TokenDelegation.access_token): Django deletes
    # this row with its token, and so does `cleartokens` (oauth_server/cleanup.py).
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.CASCADE,
        related_name="personal",
        db_constraint=False,
    )
    hint = models.CharField(
        max_length=12, help_text="The token's first characters, to tell tokens apart."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], name="personal_token_unique_name_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class RedeemedCode(models.Model):
    """An authorization code that was exchanged, kept to recognise its replay.

    DOT deletes a grant when its code is used, so a second attempt cannot tell "used"
    from "never issued". RFC 6749 §4.1.2 asks a server that sees a code again to
    revoke the tokens issued for it; this row (checksums only, never the code or a
    token) names them. It lives as long as the tokens it names can.
    """

    code_checksum = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    access_token_checksum = models.CharField(max_length=64)
    refresh_token_checksum = models.CharField(max_length=64, blank=True)
    redeemed = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-redeemed", "-pk"]

    def __str__(self) -> str:
        return (
            f"Code redeemed by {self.application_id} at {self.redeemed:%Y-%m-%d %H:%M}"
        )


class AuthTime(models.Model):
    """When the user behind an authorization code or an ID token signed in.

    OIDC Core §2 `auth_time`. DOT's Grant and IDToken have no column for it, so each
    row belongs to one of them and goes when it does.
    """

    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="auth_time",
    )
    id_token = models.OneToOneField(
        oauth2_settings.ID_TOKEN_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="auth_time",
    )
    authenticated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(grant__isnull=True) ^ Q(id_token__isnull=True),
                name="auth_time_of_a_grant_or_an_id_token",
            ),
        ]

    def __str__(self) -> str:
        return f"signed in at {self.authenticated_at:%Y-%m-%d %H:%M:%S}"


class Consent(models.Model):
    """What a user allowed an application, remembered so they are not asked again.

    One row per user and application: the union of the scopes they allowed and when
    they last allowed more. A request for the same or fewer scopes skips the consent
    page; a request for more shows only what is new; removing the application's
    access deletes the row (and every token and code the application holds for the
    user).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="consents",
    )
    scope = models.TextField(help_text="Space-separated scopes the user allowed.")
    granted = models.DateTimeField(
        auto_now=True, help_text="When the user last allowed more."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-granted", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "application"], name="consent_one_per_user_and_app"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} allowed {self.application}: {self.scope}"

    @property
    def scope_list(self) -> list[str]:
        return self.scope.split()

    def covers(self, requested: Iterable[str]) -> bool:
        return set(requested) <= set(self.scope_list)


class BearerCacheEpoch(models.Model):
    """A counter that distrusts every cached bearer lookup when it moves; one row.

    Every entry of the bearer cache carries the epoch it was read under; entries
    older than this row are not trusted (oauth_server/token_cache.py). With a shared
    cache the row moves only when the cache could not be told about a revocation,
    so it is written in the revoking transaction and read about once a second.
    Without one (local mode) every revocation moves it and every lookup reads it.
    """

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"bearer cache epoch {self.value}"


class TokenDelegation(models.Model):
    """An access token issued by token exchange (RFC 8693): who acts for the user.

    The token itself belongs to the user and the application of the token it was
    exchanged for, so removing that application's access revokes it too; this row
    names the resource server's client that obtained it (`act` in introspection,
    RFC 8693 §4.1) and goes with the token.
    """

    # No database foreign key: PostgreSQL checks every foreign key that points at
    # access tokens for every access token deleted, and with this one and the
    # personal tokens' those checks were two thirds of `cleartokens` on a million
    # tokens. The row still goes with its token: Django's CASCADE, and
    # `cleartokens` deletes the rows pointing at each batch (oauth_server/cleanup.py;
    # tests/oauth_server/test_cleartokens.py checks none is left behind).
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.CASCADE,
        related_name="delegation",
        db_constraint=False,
    )
    actor = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The resource server's client that exchanged the token.",
    )
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"token {self.access_token_id} obtained by {self.actor_id}"


class AuditEvent(models.Model):
    """A security-relevant change: who did what, when, from where, to which client.

    Written by `oauth_server.audit.record` in the transaction of the change it
    records, so a change rolled back leaves no event. Never holds a secret, token,
    code or password: `details` carries names, scopes and counts only.
    """

    class Event(models.TextChoices):
        SIGN_IN_SUCCEEDED = "sign_in.succeeded", gettext_lazy("Signed in")
        SIGN_IN_FAILED = "sign_in.failed", gettext_lazy("Sign-in failed")
        SIGN_IN_LOCKED_OUT = "sign_in.locked_out", gettext_lazy("Sign-in locked out")
        CONSENT_GRANTED = "consent.granted", gettext_lazy("Consent granted")
        CONSENT_DENIED = "consent.denied", gettext_lazy("Consent denied")
        CONSENT_REVOKED = "consent.revoked", gettext_lazy("Consent revoked")
        TOKEN_ISSUED = "token.issued", gettext_lazy("Token issued")
        TOKEN_REFRESHED = "token.refreshed", gettext_lazy("Token refreshed")
        TOKEN_REVOKED = "token.revoked", gettext_lazy("Token revoked")
        TOKEN_REUSE_DETECTED = (
            "token.reuse_detected",
            gettext_lazy("Token reuse detected"),
        )
        TOKEN_EXCHANGED = "token.exchanged", gettext_lazy("Token exchanged")
        APPLICATION_CREATED = "application.created", gettext_lazy("Application created")
        APPLICATION_CHANGED = "application.changed", gettext_lazy("Application changed")
        APPLICATION_SECRET_ROTATED = (
            "application.secret_rotated",
            gettext_lazy("Application secret rotated"),
        )
        APPLICATION_DEACTIVATED = (
            "application.deactivated",
            gettext_lazy("Application deactivated"),
        )
        APPLICATION_DELETED = "application.deleted", gettext_lazy("Application deleted")
        PERSONAL_TOKEN_CREATED = (
            "personal_token.created",
            gettext_lazy("Personal token created"),
        )
        PERSONAL_TOKEN_REVOKED = (
            "personal_token.revoked",
            gettext_lazy("Personal token revoked"),
        )

    event = models.CharField(max_length=40, choices=Event.choices)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    username = models.CharField(
        max_length=150, blank=True, help_text="As typed or as the user was named."
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    client_id = models.CharField(
        max_length=255, blank=True, help_text="Kept when the application is deleted."
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created"], name="audit_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} at {self.created:%Y-%m-%d %H:%M:%S}"


DEFAULT_REGISTRATION_SCOPES = "books:read books:write openid profile"


class RegistrationPolicy(models.Model):
    """What clients that register themselves may do; one row, set in the admin.

    Read by dynamic client registration (RFC 7591/7592) and Client ID Metadata
    Documents (oauth_server/registration.py, oauth_server/cimd.py) and by
    `clearregistrations`. Applications an administrator registers ignore it.
    """

    SINGLETON = 1

    dcr_open = models.BooleanField(
        gettext_lazy("dynamic registration open"),
        default=True,
        help_text=gettext_lazy(
            "Anyone may register a client at the registration endpoint."
        ),
    )
    public_clients_only = models.BooleanField(
        default=True,
        help_text=gettext_lazy(
            "Registered clients are public (token_endpoint_auth_method none, PKCE) "
            "and get no secret."
        ),
    )
    cimd_enabled = models.BooleanField(
        gettext_lazy("client ID metadata documents"),
        default=True,
        help_text=gettext_lazy(
            "Clients may use the https URL of their metadata as client_id."
        ),
    )
    scopes = models.TextField(
        default=DEFAULT_REGISTRATION_SCOPES,
        help_text=gettext_lazy(
            "Space-separated scopes a registered client may obtain; asking to "
            "register with more is refused."
        ),
    )
    registrations_per_hour = models.PositiveIntegerField(
        default=10,
        help_text=gettext_lazy("Registrations one client address may make per hour."),
    )
    unused_days = models.PositiveIntegerField(
        default=7,
        help_text=gettext_lazy(
            "Registrations that never obtained a token are deleted after this "
            "many days (manage.py clearregistrations)."
        ),
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("registration policy")
        verbose_name_plural = gettext_lazy("registration policy")

    def __str__(self) -> str:
        return "Registration policy"

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON  # one row, whatever the caller built
        super().save(*args, **kwargs)

    def clean(self) -> None:
        names = scopes.parse(self.scopes)
        if not names:
            raise ValidationError({"scopes": "Name at least one scope."})
        if bad := scopes.unknown(names):
            raise ValidationError({"scopes": f"Unknown scope(s): {', '.join(bad)}."})
        if scopes.INTROSPECTION in names:
            raise ValidationError(
                {"scopes": "introspection is for resource servers, never public."}
            )
        self.scopes = " ".join(names)

    @classmethod
    def load(cls) -> "RegistrationPolicy":
        """The policy row, created with the defaults on first use."""
        policy, _ = cls.objects.get_or_create(pk=cls.SINGLETON)
        return policy

    @property
    def scope_list(self) -> list[str]:
        """The allowed scopes, in registry order."""
        allowed = set(self.scopes.split())
        return [name for name in scopes.SCOPES if name in allowed]

    def apply_to_cimd(self, app: Application) -> None:
        """What a client known by its metadata document may do, and is called."""
        app.allowed_scopes = " ".join(self.scope_list)
        app.algorithm = (
            capabilities.ID_TOKEN_SIGNING_ALGORITHMS[0]
            if scopes.OPENID in self.scope_list
            else ""
        )
        if not app.name.strip():
            app.name = urlsplit(app.client_id).hostname or app.client_id
