"""Admin of tokens and authorization codes (DOT's `*_ADMIN_CLASS` settings).

DOT's admins already search by user and application and never show a token or
code. These add the audit event to its revoke actions, and a revoke action for
unused authorization codes. Not `admin.py`, for the reason application_admin
gives: DOT's admin module imports these while it registers models.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oauth2_provider.admin import AccessTokenAdmin as DOTAccessTokenAdmin
from oauth2_provider.admin import GrantAdmin as DOTGrantAdmin
from oauth2_provider.admin import RefreshTokenAdmin as DOTRefreshTokenAdmin

from oauth_server import audit


def _record_revocations(request: HttpRequest, queryset, token_type: str) -> None:
    for token in queryset.select_related("application"):
        audit.record(
            audit.Event.TOKEN_REVOKED,
            request=request,
            user=request.user,
            application=token.application,
            token_type_hint=token_type,
            token_user_id=token.user_id,
            by_admin=True,
        )


class AccessTokenAdmin(DOTAccessTokenAdmin):
    """DOT's access-token admin; revoking writes one audit event per token."""

    @admin.action(description=_("Revoke selected access tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset) -> None:
        _record_revocations(request, queryset, "access_token")
        super().revoke_tokens(request, queryset)


class RefreshTokenAdmin(DOTRefreshTokenAdmin):
    """DOT's refresh-token admin; revoking writes one audit event per token."""

    @admin.action(description=_("Revoke selected refresh tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset) -> None:
        _record_revocations(
            request, queryset.filter(revoked__isnull=True), "refresh_token"
        )
        super().revoke_tokens(request, queryset)


class GrantAdmin(DOTGrantAdmin):
    """DOT's authorization-code admin, with a revoke action for unused codes."""

    list_select_related = ("application", "user")
    actions = ("revoke_grants",)

    @admin.action(description=_("Revoke selected authorization codes"))
    def revoke_grants(self, request: HttpRequest, queryset) -> None:
        revoked = queryset.count()
        queryset.delete()
        self.message_user(
            request,
            ngettext(
                "Revoked %(count)d authorization code.",
                "Revoked %(count)d authorization codes.",
                revoked,
            )
            % {"count": revoked},
        )
