"""Admin for registered applications (DOT's `APPLICATION_ADMIN_CLASS`).

Not `admin.py`: DOT's admin module imports this class while it registers models, so
Django's admin autodiscovery must not import it first (circular import).
"""

from django.contrib import admin
from django.db import models
from oauth2_provider.admin import ApplicationAdmin as DOTApplicationAdmin

from oauth_server import services


class ApplicationAdmin(DOTApplicationAdmin):
    """DOT's application admin, with our fields in the list and https URLs by default."""

    list_display = (
        "name",
        "client_id",
        "client_type",
        "authorization_grant_type",
        "allowed_scopes",
        "is_active",
    )
    list_filter = ("is_active", *DOTApplicationAdmin.list_filter)
    search_fields = ("name", "client_id")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["deactivate"]

    @admin.action(description="Deactivate and revoke all tokens")
    def deactivate(self, request, queryset) -> None:
        for app in queryset:
            services.application_deactivate(client_id=app.client_id)
        self.message_user(request, f"Deactivated {queryset.count()} application(s).")
