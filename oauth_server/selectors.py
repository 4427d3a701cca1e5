"""Reads of the authorization server that shape queries or decide policy."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from oauth_server.models import Application
from oauth_server.tokens import token_is_live


def consent_exists(
    *, user: AbstractBaseUser, application: Application, scopes: Iterable[str]
) -> bool:
    """Whether `user` has already consented to `scopes` for `application`.

    The one place that decides it: `prompt=none` may skip the consent page only when
    this says so, and so may DOT's own shortcuts. Remembered consent, recorded per
    user and application, will replace the body. Until then, DOT's rules: the
    application skips authorization (first-party, registered so), or the user holds
    a live token of this application that covers every requested scope (DOT's
    "auto" approval). One query, none for applications that skip authorization.
    """
    if application.skip_authorization:
        return True
    tokens = (
        get_access_token_model()
        .objects.filter(user=user, application=application, expires__gt=timezone.now())
        .select_related("user", "application")
    )
    return any(token_is_live(token) and token.allow_scopes(scopes) for token in tokens)
