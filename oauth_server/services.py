"""Writes on registered applications and users' consents, shared by views, commands
and tests."""

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from oauth_server import audit, capabilities, demo, developers, scopes
from oauth_server.models import Application, Consent

logger = logging.getLogger(__name__)

# `registerapp --grant-type` names -> the application's registered grant.
GRANT_TYPES = capabilities.APPLICATION_GRANT_TYPES


@dataclass(frozen=True)
class Registration:
    """A saved application and its cleartext secret (None for public clients)."""

    application: Application
    client_secret: str | None


@transaction.atomic
def application_register(
    *,
    name: str,
    client_type: str,
    grant_type: str,
    scope: str,
    redirect_uris: Sequence[str] = (),
    post_logout_redirect_uris: Sequence[str] = (),
    client_id: str | None = None,
    description: str = "",
    homepage_url: str = "",
    logo_url: str = "",
    policy_url: str = "",
    contacts: Sequence[str] = (),
    skip_authorization: bool = False,
    requested_scope: str = "",
    owner: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
) -> Registration:
    """Validate and save a new application; its secret is returned once, never stored.

    `scope` is what it may obtain now; `requested_scope` what its developer (`owner`)
    asks for, allowed only when an administrator approves it.
    """
    names = scopes.parse(scope)
    requested = sorted(scopes.parse(requested_scope), key=_registry_order)
    app = Application(
        name=name,
        user=owner,
        client_type=client_type,
        authorization_grant_type=GRANT_TYPES.get(grant_type, grant_type),
        allowed_scopes=" ".join(names),
        requested_scopes=" ".join(requested),
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
        description=description,
        homepage_url=homepage_url,
        logo_url=logo_url,
        policy_url=policy_url,
        contacts=list(contacts),
        skip_authorization=skip_authorization,
        algorithm=_algorithm_for([*names, *requested]),
    )
    if client_id:
        app.client_id = client_id
    secret = None
    if client_type == Application.CLIENT_CONFIDENTIAL:
        secret = generate_client_secret()
        app.client_secret = secret  # hashed by DOT's ClientSecretField on save
    else:
        app.client_secret = ""
    app.full_clean()
    app.save()
    audit.record(
        audit.Event.APPLICATION_CREATED,
        request=request,
        user=_actor(request),
        application=app,
        grant_type=app.authorization_grant_type,
        requested_scopes=app.requested_scope_list,
    )
    logger.info(
        "application registered client_id=%s grant=%s", app.client_id, grant_type
    )
    return Registration(application=app, client_secret=secret)


# What a developer may change after registering; the client and grant type stay.
CHANGEABLE_FIELDS = (
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "description",
    "homepage_url",
    "logo_url",
    "policy_url",
    "requested_scopes",
)


@transaction.atomic
def application_change(
    *,
    client_id: str,
    request: HttpRequest | None = None,
    name: str | None = None,
    redirect_uris: Sequence[str] | None = None,
    post_logout_redirect_uris: Sequence[str] | None = None,
    description: str | None = None,
    homepage_url: str | None = None,
    logo_url: str | None = None,
    policy_url: str | None = None,
    requested_scope: str | None = None,
) -> Application:
    """Change what users see of an application and which scopes it asks for.

    Arguments left at None keep their value. Requested scopes replace the pending
    request (scopes already allowed are dropped from it: allowing is an
    administrator's decision, `application_scopes_approve`). Writes an
    `application.changed` event naming the changed fields when anything changed.
    """
    app = Application.objects.select_for_update().get(client_id=client_id)
    allowed = set(app.allowed_scope_list)
    values = {
        "name": name,
        "redirect_uris": _joined(redirect_uris),
        "post_logout_redirect_uris": _joined(post_logout_redirect_uris),
        "description": description,
        "homepage_url": homepage_url,
        "logo_url": logo_url,
        "policy_url": policy_url,
        "requested_scopes": _joined(
            None
            if requested_scope is None
            else sorted(
                (n for n in scopes.parse(requested_scope) if n not in allowed),
                key=_registry_order,
            )
        ),
    }
    changed = []
    for field, value in values.items():
        if value is not None and value != getattr(app, field):
            setattr(app, field, value)
            changed.append(field)
    app.algorithm = app.algorithm or _algorithm_for(
        [*allowed, *scopes.parse(app.requested_scopes)]
    )
    app.full_clean()
    if changed:
        app.save(update_fields=[*CHANGEABLE_FIELDS, "algorithm", "updated"])
        audit.record(
            audit.Event.APPLICATION_CHANGED,
            request=request,
            user=_actor(request),
            application=app,
            fields=changed,
            requested_scopes=app.requested_scope_list,
        )
        logger.info("application changed client_id=%s", client_id)
    return app


@transaction.atomic
def application_scopes_approve(
    *, client_id: str, request: HttpRequest | None = None
) -> list[str]:
    """Allow an application the scopes its developer requested; returns them.

    The allowed scopes become allowed plus requested; the request is cleared.
    """
    app = Application.objects.select_for_update().get(client_id=client_id)
    approved = app.requested_scope_list
    if not approved:
        return []
    app.allowed_scopes = " ".join([*app.allowed_scope_list, *approved])
    app.requested_scopes = ""
    app.algorithm = app.algorithm or _algorithm_for(approved)
    app.full_clean()
    app.save(
        update_fields=["allowed_scopes", "requested_scopes", "algorithm", "updated"]
    )
    audit.record(
        audit.Event.APPLICATION_CHANGED,
        request=request,
        user=_actor(request),
        application=app,
        fields=["allowed_scopes", "requested_scopes"],
        scopes_approved=approved,
    )
    logger.info("requested scopes approved client_id=%s", client_id)
    return approved


@transaction.atomic
def application_scopes_decline(
    *, client_id: str, request: HttpRequest | None = None
) -> list[str]:
    """Clear an application's scope request, leaving what it may obtain; returns it."""
    app = Application.objects.select_for_update().get(client_id=client_id)
    declined = app.requested_scope_list
    if not declined:
        return []
    app.requested_scopes = ""
    app.save(update_fields=["requested_scopes", "updated"])
    audit.record(
        audit.Event.APPLICATION_CHANGED,
        request=request,
        user=_actor(request),
        application=app,
        fields=["requested_scopes"],
        scopes_declined=declined,
    )
    logger.info("requested scopes declined client_id=%s", client_id)
    return declined


@transaction.atomic
def application_rotate_secret(
    *, client_id: str, request: HttpRequest | None = None
) -> Registration:
    """Give a confidential application a new secret; the old one stops working now."""
    app = Application.objects.select_for_update().get(client_id=client_id)
    if app.client_type != Application.CLIENT_CONFIDENTIAL:
        raise ValidationError("Public clients have no secret to rotate.")
    secret = generate_client_secret()
    app.client_secret = secret
    app.save(update_fields=["client_secret", "updated"])
    audit.record(
        audit.Event.APPLICATION_SECRET_ROTATED,
        request=request,
        user=_actor(request),
        application=app,
    )
    logger.info("client secret rotated client_id=%s", client_id)
    return Registration(application=app, client_secret=secret)


@transaction.atomic
def application_deactivate(
    *, client_id: str, request: HttpRequest | None = None
) -> Application:
    """Switch an application off and revoke every token and code it holds."""
    app = Application.objects.select_for_update().get(client_id=client_id)
    app.is_active = False
    app.save(update_fields=["is_active", "updated"])
    # Refresh tokens point at access tokens; delete them first, then the rest.
    get_refresh_token_model().objects.filter(application=app).delete()
    get_access_token_model().objects.filter(application=app).delete()
    get_grant_model().objects.filter(application=app).delete()
    audit.record(
        audit.Event.APPLICATION_DEACTIVATED,
        request=request,
        user=_actor(request),
        application=app,
    )
    logger.info("application deactivated client_id=%s", client_id)
    return app


@transaction.atomic
def demo_load(*, path: Path) -> dict:
    """The demo user and applications, created once; their credentials kept in `path`.

    Idempotent: credentials already in `path` are kept; an application whose secret
    was lost gets a new one. Returns the state written to `path` (mode 0600):
    `{"password": ..., "clients": {client_id: {"client_id", "client_secret"}}}`.
    """
    state = json.loads(path.read_text()) if path.exists() else {"clients": {}}
    User = get_user_model()
    user = User.objects.filter(username="demo").first()
    if user is None or "password" not in state:
        state["password"] = secrets.token_urlsafe(12)
        user = user or User(username="demo")
        user.first_name, user.last_name = "Dana", "Demo"
        user.email = "demo@example.com"
        user.set_password(state["password"])
        user.save()
    # The demo user sees the developer portal too (`make run`).
    user.groups.add(Group.objects.get_or_create(name=developers.DEVELOPERS)[0])
    for spec in demo.DEMO_APPS:
        client_id = spec["client_id"]
        known = Application.objects.filter(client_id=client_id).exists()
        if known and client_id in state["clients"]:
            continue
        if not known:
            secret = application_register(**spec).client_secret
        elif spec["client_type"] == Application.CLIENT_CONFIDENTIAL:
            secret = application_rotate_secret(client_id=client_id).client_secret
        else:
            secret = None
        state["clients"][client_id] = {"client_id": client_id, "client_secret": secret}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))
    path.chmod(0o600)
    return state


@transaction.atomic
def consent_remember(
    *,
    user: AbstractBaseUser,
    application: Application,
    scopes: Sequence[str],
    request: HttpRequest | None = None,
) -> Consent:
    """Record that `user` allowed `application` these scopes, adding to earlier ones.

    Writes the consent only when something is new (the row is locked so two tabs
    allowing at once both end up in it); the audit log gets every decision.
    """
    consent, created = Consent.objects.select_for_update().get_or_create(
        user=user, application=application, defaults={"scope": " ".join(scopes)}
    )
    if not created and not consent.covers(scopes):
        consent.scope = " ".join(dict.fromkeys([*consent.scope_list, *scopes]))
        consent.save(update_fields=["scope", "granted"])
    audit.record(
        audit.Event.CONSENT_GRANTED,
        request=request,
        user=user,
        application=application,
        scopes=list(scopes),
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *,
    user: AbstractBaseUser,
    application: Application,
    request: HttpRequest | None = None,
) -> int:
    """Remove `application`'s access for `user`: forget the consent, revoke every
    token and unused code it holds for them. Returns how many tokens went."""
    Consent.objects.filter(user=user, application=application).delete()
    get_refresh_token_model().objects.filter(
        user=user, application=application
    ).delete()
    revoked, _ = (
        get_access_token_model()
        .objects.filter(user=user, application=application)
        .delete()
    )
    get_grant_model().objects.filter(user=user, application=application).delete()
    audit.record(
        audit.Event.CONSENT_REVOKED,
        request=request,
        user=user,
        application=application,
        tokens_revoked=revoked,
    )
    logger.info("access removed client_id=%s user=%s", application.client_id, user.pk)
    return revoked


def _registry_order(name: str) -> int:
    """Sort key: a scope's place in the registry, unknown names last."""
    order = list(scopes.SCOPES)
    return order.index(name) if name in order else len(order)


def _joined(values: Sequence[str] | None) -> str | None:
    return None if values is None else " ".join(values)


def _algorithm_for(names: Sequence[str]) -> str:
    """The ID-token signing algorithm an application with these scopes needs."""
    return Application.RS256_ALGORITHM if scopes.OPENID in names else ""


def _actor(request: HttpRequest | None) -> AbstractBaseUser | None:
    """Who made a change: the signed-in user of `request` (None from a command)."""
    return getattr(request, "user", None)
