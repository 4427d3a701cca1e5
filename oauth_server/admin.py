"""Admin of the authorization server's own models (applications: application_admin)."""

from django.contrib import admin
from django.http import HttpRequest

from oauth_server.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, read-only: events are written by the changes they record."""

    list_display = ("created", "event", "username", "client_id", "address")
    list_filter = ("event", ("created", admin.DateFieldListFilter))
    search_fields = ("username", "client_id")
    date_hierarchy = "created"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: AuditEvent | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: AuditEvent | None = None
    ) -> bool:
        return False
